# shellcheck shell=bash
# Sourced by the Terraform recipes (bash). When the provider mirror of the build
# machines exists, writes a CLI config that installs hashicorp/* providers from it
# and exports TF_CLI_CONFIG_FILE for the calling recipe only. Without a mirror the
# user's own Terraform setup (registry, credentials, CLI config) is left as it is.
#
# TF_PLUGIN_MIRROR overrides the mirror directory (default /opt/tf-plugins).

stratus_tf_mirror="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
stratus_tf_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stratus_tf_rc="$stratus_tf_root/target/terraform/terraformrc"

if [[ -d "$stratus_tf_mirror/registry.terraform.io" ]]; then
  mkdir -p "$(dirname "$stratus_tf_rc")"
  cat >"$stratus_tf_rc" <<RC
# Written by \`just setup-terraform\`: providers from the local mirror, nothing from the network.
provider_installation {
  filesystem_mirror {
    path    = "$stratus_tf_mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
RC
  export TF_CLI_CONFIG_FILE="$stratus_tf_rc"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0
