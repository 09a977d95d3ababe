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

# The images' tag, naming one build: <workspace version>-<short sha>-<arch>, plus
# -dirty-<hash> when the tree differs from HEAD in any way the build could see. The hash covers
# the tracked changes (`git diff --binary HEAD`, binary files included) and every untracked file
# git does not ignore, by name and content: two trees that differ never share a tag, and an
# amd64 and an arm64 build of one commit never do either (ECR tags are immutable).
image_tag() { # <arch>
  local version sha dirty=""
  version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
  sha=$(git rev-parse --short=8 HEAD 2>/dev/null || echo nogit)
  if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    dirty=-dirty-$(tree_changes | sha256 | cut -c1-12)
  fi
  echo "${version:-0.0.0}-$sha-$1$dirty"
}

# Everything in the working tree that differs from HEAD: the diff of tracked files, then each
# untracked, not ignored file's name and git blob hash (which covers its content).
tree_changes() {
  git diff --binary HEAD
  git ls-files -z --others --exclude-standard | while IFS= read -r -d '' file; do
    printf 'untracked %s %s\n' "$file" "$(git hash-object -- "$file" 2>/dev/null || echo unreadable)"
  done
}

# sha256sum on Linux, shasum on macOS (which has no sha256sum).
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }
