#!/usr/bin/env bash
# Make the local stand-in for the Debian base image: a `debootstrap --variant=minbase`
# bookworm rootfs committed as a buildah image (default localhost/stratus-base:bookworm, or
# localhost/stratus-base:bookworm-<arch> for another architecture, which runs under qemu:
# scripts/images/emulation.sh).
# Real builds use the pinned registry image (images/*/Dockerfile, BASE_IMAGE); here
# nothing can be pulled, so `just test-images` passes this one as BASE_IMAGE instead.
# Reuses an existing image unless --force; the mirror is the one apt uses on this machine.
#   scripts/images/base.sh [--force] [--arch=ARCH] [--image=NAME]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
arch=$(host_arch)
image=""
force=false
for a in "$@"; do
  case $a in
    --force) force=true ;;
    --arch=*) arch=${a#--arch=} ;;
    --image=*) image=${a#--image=} ;;
    *) echo "usage: $0 [--force] [--arch=ARCH] [--image=NAME]" >&2; exit 2 ;;
  esac
done
if [[ -z $image ]]; then
  image=localhost/stratus-base:bookworm
  [[ $arch == "$(host_arch)" ]] || image+=-$arch
fi

if ! $force && buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "base: reusing $image"
  exit 0
fi
for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || { echo "base: $tool is missing (just setup installs it)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "base: debootstrap and buildah's chroot isolation need root" >&2; exit 1; }

# The first Debian (not security) mirror among apt's sources, one-line or deb822.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -Eo '(https?://[^ ]+/debian)/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d /var/tmp/stratus-base.XXXXXX)
ctr=""
cleanup() {
  [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$rootfs"
}
trap cleanup EXIT

start=$SECONDS
echo "base: debootstrap bookworm ($arch) from $mirror"
"$(dirname "$0")/emulation.sh" "$arch"
debootstrap --variant=minbase --arch="$arch" bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; echo "base: debootstrap failed" >&2; exit 1; }
rm -f "$rootfs.log"
# As in Docker's debian:*-slim images: no apt caches (also after later installs), no docs,
# man pages or translations (also of packages installed later).
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
CFG
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/lintian/*

ctr=$(buildah from scratch)
cp -a "$rootfs/." "$(buildah mount "$ctr")/"
buildah umount "$ctr" >/dev/null
buildah config --arch "$arch" --os linux --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
buildah commit --quiet "$ctr" "$image" >/dev/null
echo "base: $image ready in $((SECONDS - start)) s"
