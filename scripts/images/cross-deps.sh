#!/usr/bin/env bash
# What a cross build of gdal-lambda for ARCH (arm64, amd64) needs on a Debian machine: the gcc
# cross toolchain and the target's OpenSSL and zlib headers and libraries (multiarch packages, the
# same Debian release the image's runtime stage carries). Installs what is missing (needs root).
#   scripts/images/cross-deps.sh arm64
set -euo pipefail
source "$(dirname "$0")/lib.sh"
arch=${1:?usage: cross-deps.sh ARCH}
gnu=$(gnu_triple "$arch")
want=("g++-${gnu//_/-}" "libssl-dev:$arch" "zlib1g-dev:$arch")
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "cross-deps: missing ${missing[*]}: as root on Debian/Ubuntu run" \
       "dpkg --add-architecture $arch && apt-get update && apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "cross-deps: installing ${missing[*]}"
dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
