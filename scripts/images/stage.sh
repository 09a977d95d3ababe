#!/usr/bin/env bash
# Build the binaries the images carry for each ARCH (amd64, arm64; default: this machine's) and
# stage the build context of images/*/Dockerfile in target/images/context:
#   <arch>/bin/gdal-lambda    the handler, linked with a lean static GDAL (feature bundled-gdal)
#   <arch>/bin/run-lambda     the runner (pure Rust)
#   <arch>/share/{gdal,proj}  GDAL and PROJ data of that same GDAL build (proj.db)
#   images/                   a copy of images/ (requirements, the `run` script)
# The machine's architecture builds with cargo; another one cross-compiles: run-lambda with
# `cargo lambda build --release` (zig), gdal-lambda with Debian's gcc cross toolchain.
# Cargo's output goes to target/images/cargo so the images' release/static builds do not evict
# the everyday debug build. CARGO_BUILD_JOBS (default 2) bounds the parallelism.
# STRATUS_GDAL=system (this machine's architecture only) links gdal-lambda with the system's
# libgdal instead and stages its data: build that image with --build-arg GDAL_PACKAGES=libgdal32.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh

ctx=target/images/context
out=target/images/cargo
jobs=${CARGO_BUILD_JOBS:-2}
(($#)) || set -- "$(host_arch)"

stage_data() { # <cargo release dir> <arch dir>
  local rel=$1 dst=$2 proj gdal
  proj=$(newest "$rel"/build/proj-sys-*/out/share/proj/proj.db)
  gdal=$(newest "$rel"/build/gdal-src-*/out/share/gdal/gdalvrt.xsd)
  [[ -n $proj && -n $gdal ]] || { echo "stage: no PROJ/GDAL data under $rel/build" >&2; exit 1; }
  rm -rf "$dst/share" && mkdir -p "$dst/share"
  cp -a "$(dirname "$proj")" "$dst/share/proj"
  cp -a "$(dirname "$gdal")" "$dst/share/gdal"
}

for arch in "$@"; do
  triple=$(rust_triple "$arch")
  dst=$ctx/$arch
  mkdir -p "$dst/bin"
  start=$SECONDS
  if [[ ${STRATUS_GDAL:-bundled} == system ]]; then
    [[ $arch == "$(host_arch)" ]] || { echo "stage: STRATUS_GDAL=system builds for this machine only" >&2; exit 1; }
    echo "stage: building run-lambda and gdal-lambda (system GDAL) for $arch"
    cargo build --release --locked -j "$jobs" --target-dir "$out" -p run-lambda -p gdal-lambda
    cp "$out/release/run-lambda" "$out/release/gdal-lambda" "$dst/bin/"
    rm -rf "$dst/share" && mkdir -p "$dst/share"
    cp -a /usr/share/gdal /usr/share/proj "$dst/share/"
    echo "stage: $dst ready in $((SECONDS - start)) s (system GDAL)"
    continue
  elif [[ $arch == "$(host_arch)" ]]; then
    echo "stage: building run-lambda and gdal-lambda (bundled GDAL) for $arch"
    cargo build --release --locked -j "$jobs" --target-dir "$out" \
      -p run-lambda -p gdal-lambda --features gdal-lambda/bundled-gdal
    rel=$out/release
    cp "$rel/run-lambda" "$rel/gdal-lambda" "$dst/bin/"
  else
    echo "stage: cross-compiling run-lambda for $arch (cargo lambda)"
    [[ -x .venv/bin/cargo-lambda ]] && PATH=$root/.venv/bin:$PATH # installed by `just setup`
    command -v cargo-lambda >/dev/null \
      || { echo "stage: cargo-lambda is missing: \`just setup\` (or pip install cargo-lambda)" >&2; exit 1; }
    case $arch in arm64) lambda_arch=--arm64 ;; amd64) lambda_arch=--x86-64 ;; esac
    # (cargo lambda passes --target-dir on to `cargo metadata`, which rejects it: use the env)
    CARGO_TARGET_DIR=$out cargo lambda build --release --locked "$lambda_arch" -j "$jobs" \
      --lambda-dir "$out/lambda-$arch" -p run-lambda
    cp "$out/lambda-$arch/run-lambda/bootstrap" "$dst/bin/run-lambda"

    echo "stage: cross-compiling gdal-lambda (bundled GDAL) for $arch (gcc cross toolchain)"
    gnu=$(gnu_triple "$arch")
    scripts/images/cross-deps.sh "$arch"
    rustup target add "$triple" >/dev/null
    up=$(tr 'a-z-' 'A-Z_' <<<"$triple")
    # libcurl's TLS and zlib link the target's Debian libssl3/zlib (multiarch -dev packages), the
    # same libraries the image's runtime stage installs; pkg-config looks only at the target's.
    env "CC_${triple//-/_}=$gnu-gcc" "CXX_${triple//-/_}=$gnu-g++" "AR_${triple//-/_}=$gnu-ar" \
        "CARGO_TARGET_${up}_LINKER=$gnu-gcc" \
        "PKG_CONFIG_ALLOW_CROSS=1" \
        "PKG_CONFIG_LIBDIR_${triple//-/_}=/usr/lib/$gnu/pkgconfig:/usr/share/pkgconfig" \
        "PKG_CONFIG_SYSROOT_DIR_${triple//-/_}=/" \
      cargo build --release --locked -j "$jobs" --target-dir "$out" --target "$triple" \
        -p gdal-lambda --features gdal-lambda/bundled-gdal
    rel=$out/$triple/release
    cp "$rel/gdal-lambda" "$dst/bin/"
  fi
  stage_data "$rel" "$dst"
  echo "stage: $dst ready in $((SECONDS - start)) s"
done

rm -rf "$ctx/images" && mkdir -p "$ctx" && cp -a images "$ctx/images"
