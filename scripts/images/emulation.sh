#!/usr/bin/env bash
# Let this machine run ARCH (arm64, amd64) binaries, as buildah's RUN steps and `buildah run` of a
# foreign image need: qemu-user-static registered with binfmt_misc, with the F flag so that the
# emulator is found inside chroots. Docker Desktop and `docker run --privileged tonistiigi/binfmt`
# do the same; this is the Debian way, without a container engine. Needs root.
#   scripts/images/emulation.sh arm64
set -euo pipefail
source "$(dirname "$0")/lib.sh"
arch=${1:?usage: emulation.sh ARCH}
[[ $arch == "$(host_arch)" ]] && exit 0
case $arch in arm64) qemu=aarch64 ;; amd64) qemu=x86_64 ;; *) echo "emulation: unsupported architecture $arch" >&2; exit 1 ;; esac

binfmt=/proc/sys/fs/binfmt_misc
entry=$binfmt/qemu-$qemu
if [[ -e $entry ]] && grep -q '^enabled' "$entry" && grep -q '^flags:.*F' "$entry"; then
  exit 0
fi
[[ $(id -u) == 0 ]] || { echo "emulation: registering qemu-$qemu with binfmt_misc needs root" >&2; exit 1; }
conf=/usr/lib/binfmt.d/qemu-$qemu.conf
if [[ ! -f $conf ]]; then
  echo "emulation: installing qemu-user-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi
[[ -f $binfmt/register ]] || mount -t binfmt_misc binfmt_misc "$binfmt" \
  || { echo "emulation: cannot mount binfmt_misc at $binfmt" >&2; exit 1; }
[[ -e $entry ]] && echo -1 >"$entry" # an entry without the F flag: replace it
cat "$conf" >"$binfmt/register"
grep -q '^flags:.*F' "$entry" || { echo "emulation: qemu-$qemu registered without the F flag" >&2; exit 1; }
echo "emulation: $arch binaries run under qemu-$qemu-static"
