#!/usr/bin/env bash
# The GDAL build the image ships, for this machine's test suites: builds the `gdal` stage of
# images/gdal-lambda/Dockerfile (scripts/gdal/build.sh) for this machine's architecture with the
# local Docker engine, exports it to target/gdal/<arch>-<hash of its inputs>, and prints the
# environment that makes cargo (gdal-sys) link it instead of the system's libgdal:
#   eval "$(scripts/gdal/host.sh)" && cargo test -p raster-info
# An export whose inputs have not changed is reused without asking Docker; the engine's build
# cache makes a rebuild after `cargo clean` (or in a fresh clone on the same machine) a copy.
#   scripts/gdal/host.sh [--path]     --path: print only the prefix
# Environment:
#   STRATUS_GDAL_ARCH     amd64 or arm64 (default: this machine's; another one is cross-compiled,
#                         its programs do not run here)
#   STRATUS_CA_BUNDLE     a CA bundle for the build's downloads (default: the system's, if any),
#                         passed as the build secret `ca`
#   RUST_IMAGE            the build stage's base (default: the local stand-in
#                         localhost/stratus-rust:bookworm-<arch> when the engine has it or
#                         scripts/images/standins.sh can make it, else the Dockerfile's pin)
#   DOCKER_HOST, DOCKER_CLI as scripts/images/engine.sh sets them (it is run when unset)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh
arch=${STRATUS_GDAL_ARCH:-$(host_arch)}
rust_triple "$arch" >/dev/null
path_only=false
[[ ${1:-} == --path ]] && path_only=true
log() { echo "gdal-host: $*" >&2; }

# The inputs of the `gdal` stage: scripts/gdal/ and the Dockerfile's stages up to it.
dockerfile=images/gdal-lambda/Dockerfile
inputs=$({
  sed -n '1,/^COPY --from=gdal-build/p' "$dockerfile"
  find scripts/gdal -type f ! -name '*.md' | LC_ALL=C sort | while read -r f; do echo "== $f"; cat "$f"; done
  echo "${RUST_IMAGE:-}"
} | sha256sum | cut -c1-12)
prefix=$root/target/gdal/$arch-$inputs

env_lines() {
  local version
  version=$(sed -n 's/^GDAL_VERSION=//p' scripts/gdal/versions)
  printf 'export GDAL_HOME=%q GDAL_STATIC=1 GDAL_VERSION=%q\n' "$prefix" "$version"
  printf 'export PKG_CONFIG_PATH=%q PKG_CONFIG_ALL_STATIC=1\n' "$prefix/lib/pkgconfig"
  printf 'export STRATUS_GDALINFO=%q GDAL_DATA=%q PROJ_DATA=%q\n' \
    "$prefix/bin/gdalinfo" "$prefix/share/gdal" "$prefix/share/proj"
}

if [[ -f $prefix/gdal-build.json ]]; then
  log "reusing $prefix"
else
  start=$SECONDS
  if [[ -z ${DOCKER_HOST:-} || -z ${DOCKER_CLI:-} ]]; then
    eval "$(scripts/images/engine.sh --lease $$)"
    trap 'scripts/images/engine.sh release $$' EXIT
  fi
  docker=$DOCKER_CLI
  rust_image=${RUST_IMAGE:-}
  if [[ -z $rust_image ]]; then
    standin=localhost/stratus-rust:bookworm-$(host_arch)
    if ! "$docker" image inspect "$standin" >/dev/null 2>&1 && [[ $(id -u) == 0 ]] && command -v debootstrap >/dev/null; then
      DOCKER_HOST=$DOCKER_HOST DOCKER_CLI=$docker scripts/images/standins.sh "$(host_arch)" >&2
    fi
    "$docker" image inspect "$standin" >/dev/null 2>&1 && rust_image=$standin
  fi
  args=(--target gdal --platform "linux/$arch" --network host -f "$dockerfile")
  [[ -n $rust_image ]] && args+=(--build-arg "RUST_IMAGE=$rust_image")
  ca=${STRATUS_CA_BUNDLE:-}
  [[ -z $ca && -s /etc/ssl/certs/ca-certificates.crt ]] && ca=/etc/ssl/certs/ca-certificates.crt
  [[ -n $ca ]] && args+=(--secret "id=ca,src=$ca")
  log "building the gdal stage for linux/$arch${rust_image:+ on $rust_image} (the first build compiles PROJ, netCDF, libjxl and GDAL)"
  rm -rf "$prefix.tmp"
  DOCKER_BUILDKIT=1 "$docker" build "${args[@]}" --output "type=local,dest=$prefix.tmp" . >&2
  [[ -f $prefix.tmp/gdal-build.json ]] || { log "the gdal stage exported no gdal-build.json"; exit 1; }
  rm -rf "$prefix"
  mv "$prefix.tmp" "$prefix"
  # Older exports of this architecture: their inputs are gone.
  find "$root/target/gdal" -mindepth 1 -maxdepth 1 -name "$arch-*" ! -path "$prefix" -exec rm -rf {} +
  log "exported to $prefix in $((SECONDS - start)) s"
fi

if $path_only; then
  echo "$prefix"
else
  env_lines
fi
