#!/usr/bin/env bash
# `just check-cross [arch]`: what the images compile, checked for another architecture (arm64 by
# default: what Lambda and Graviton Batch run) on this machine, without the GDAL build and without
# running anything: gdal-lambda's `cross-check` stage compiles every C dependency of the handler
# and of run-lambda's static musl runner with the target's toolchains (cargo check: nothing is
# linked). Minutes, not the hour of `just test-images arm64`; `just test` runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh
arch=${1:-arm64}
rust_triple "$arch" >/dev/null
t0=$SECONDS

trap 'scripts/images/engine.sh release $$' EXIT
eval "$(scripts/images/engine.sh --lease $$)"
docker=$DOCKER_CLI
export DOCKER_HOST DOCKER_CLI
# The build stages run on this machine's platform: only its stand-in Rust image is needed.
rust_image=${RUST_IMAGE:-}
if [[ -z $rust_image ]]; then
  rust_image=localhost/stratus-rust:bookworm-$(host_arch)
  "$docker" image inspect "$rust_image" >/dev/null 2>&1 || scripts/images/standins.sh "$(host_arch)"
fi
args=(--platform "linux/$arch" --network host --build-arg "RUST_IMAGE=$rust_image" --output type=cacheonly)
[[ -s /etc/ssl/certs/ca-certificates.crt ]] && args+=(--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt)

check() { # <what> <docker build arguments…>
  local what=$1 start=$SECONDS log
  shift
  log=$(mktemp)
  if ! DOCKER_BUILDKIT=1 "$docker" build "${args[@]}" "$@" . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "check-cross: $what for linux/$arch failed" >&2
    exit 1
  fi
  rm -f "$log"
  echo "check-cross: $what for linux/$arch in $((SECONDS - start)) s"
}
check "gdal-lambda and run-lambda (static)" --target cross-check -f images/gdal-lambda/Dockerfile
echo "check-cross: linux/$arch compiles, in $((SECONDS - t0)) s"
