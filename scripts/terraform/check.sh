#!/usr/bin/env bash
# Static checks of every Terraform configuration: fmt, README tables, then
# init + validate + `terraform test` for the root, each module and each example.
# Run from the repository root (the `just test-terraform` recipe does).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
if ! command -v terraform >/dev/null; then
  echo "terraform is not installed (>= 1.9 needed): see docs/terraform.md" >&2
  exit 1
fi
# shellcheck source=scripts/terraform/env.sh
source scripts/terraform/env.sh

mapfile -t dirs < <(printf '%s\n' terraform terraform/modules/*/ terraform/examples/*/ | sed 's#/$##')

echo "==> terraform fmt -check"
terraform fmt -check -recursive -diff terraform

echo "==> README tables up to date"
python3 scripts/terraform/docs.py --check "${dirs[@]}"

passed=0
failed=0
for dir in "${dirs[@]}"; do
  echo "==> $dir"
  # Keep .terraform out of the tree, and don't leave behind a lock file that only
  # knows this machine's provider checksums.
  export TF_DATA_DIR="$repo/target/terraform/data/${dir//\//_}"
  had_lock=0
  [[ -e "$dir/.terraform.lock.hcl" ]] && had_lock=1
  ok=1
  terraform -chdir="$dir" init -backend=false -input=false -no-color >"$repo/target/terraform/init.log" 2>&1 ||
    { cat "$repo/target/terraform/init.log"; ok=0; }
  if [[ $ok == 1 ]]; then
    terraform -chdir="$dir" validate -no-color || ok=0
  fi
  if [[ $ok == 1 && -d "$dir/tests" ]]; then
    terraform -chdir="$dir" test -no-color || ok=0
  fi
  [[ $had_lock == 0 ]] && rm -f "$dir/.terraform.lock.hcl"
  if [[ $ok == 1 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

# The image-push module's push refuses what Lambda cannot run (apply cannot expect a
# provisioner's failure, so its script is run here with the tests' stand-in CLI; its own
# tests/push-test.sh, in `just test-scripts`, goes further).
echo "==> image-push refuses another architecture and an image index, local or in the registry"
push_env=(CONTAINER_CLI=tests/stand-in-cli ARCHITECTURE=arm64 SOURCE_IMAGE=s:1 TARGET_IMAGE=r/s:1
          REGISTRY=r REGISTRY_USER=u REGISTRY_PASSWORD=p)
for bad in STAND_IN_ARCH=amd64 STAND_IN_LOCAL_INDEX=1 STAND_IN_INDEX=1; do
  if (cd terraform/modules/image-push && env "${push_env[@]}" "$bad" bash push.sh >/dev/null 2>&1); then
    echo "image-push accepted an image it must refuse ($bad)"; failed=$((failed + 1))
  fi
done
(cd terraform/modules/image-push && env "${push_env[@]}" bash push.sh >/dev/null) || failed=$((failed + 1))

echo
echo "terraform configurations: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
