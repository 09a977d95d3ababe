# Helpers shared by scripts/images/*.sh (sourced; bash on Linux and macOS).

# This machine's architecture in Docker's naming (amd64, arm64).
host_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}

rust_triple() {
  case $1 in
    amd64) echo x86_64-unknown-linux-gnu ;;
    arm64) echo aarch64-unknown-linux-gnu ;;
    *) echo "unsupported architecture: $1 (amd64 or arm64)" >&2; return 1 ;;
  esac
}

# Version and commit tag of the images: <workspace version>-<short sha>[-dirty-<hash of the changes>].
image_tag() {
  local version sha dirty
  version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
  sha=$(git rev-parse --short=8 HEAD 2>/dev/null || echo nogit)
  dirty=""
  if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    # sha256sum on Linux, shasum on macOS.
    dirty=-dirty-$(git diff HEAD 2>/dev/null | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-8)
  fi
  echo "${version:-0.0.0}-$sha$dirty"
}
