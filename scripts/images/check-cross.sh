#!/usr/bin/env bash
# `just check-cross [arch]`: what the images compile, compiled for another architecture (arm64 by
# default: what Lambda and Graviton Batch run) on this machine, without the GDAL build and without
# running anything: run-lambda's static musl runner built in run-lambda's build stage, and the
# handler checked in gdal-lambda's `cross-check` stage (every C dependency compiled by the target's
# toolchain). Minutes, not the half hour of `just test-images arm64`; CI runs it on every change.
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
check "run-lambda (static, musl)" --target build -f images/run-lambda/Dockerfile --build-arg BASE_IMAGE=scratch
check "gdal-lambda (cargo check)" --target cross-check -f images/gdal-lambda/Dockerfile
echo "check-cross: linux/$arch compiles, in $((SECONDS - t0)) s"
