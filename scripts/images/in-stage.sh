#!/usr/bin/env bash
# Runs inside the images' build stage (images/*/Dockerfile), which runs on the build machine's
# platform ($BUILDPLATFORM) and compiles for $TARGETARCH: rustc and the C/C++ compilers never run
# under emulation.
#   in-stage.sh deps                          the toolchain for TARGETARCH: cmake, pkg-config, a C/C++
#                                             compiler for the target (Debian's cross gcc when it is not
#                                             the build machine's) and the target's libssl and zlib
#   in-stage.sh build PACKAGE [--features F]  cargo build --release of PACKAGE for TARGETARCH, the
#                                             binary copied to /out/bin; with bundled GDAL, its GDAL and
#                                             PROJ data to /out/share/{gdal,proj}
# A CA bundle given as the build secret `ca` (behind a TLS-inspecting proxy) is used by apt,
# rustup and cargo; it never reaches a layer.
set -euo pipefail

: "${TARGETARCH:?TARGETARCH is set by the builder}"
build_arch=$(dpkg --print-architecture)
case $TARGETARCH in
  amd64) triple=x86_64-unknown-linux-gnu gnu=x86_64-linux-gnu ;;
  arm64) triple=aarch64-unknown-linux-gnu gnu=aarch64-linux-gnu ;;
  *) echo "in-stage: unsupported architecture $TARGETARCH (amd64 or arm64)" >&2; exit 1 ;;
esac
cross=false
[[ $TARGETARCH == "$build_arch" ]] || cross=true

if [[ -s /run/secrets/ca ]]; then
  export SSL_CERT_FILE=/run/secrets/ca CARGO_HTTP_CAINFO=/run/secrets/ca
fi

case ${1:-} in
  deps)
    # sqlite3: PROJ builds its proj.db with it, on the build machine.
    packages=(cmake pkg-config make sqlite3 libssl-dev zlib1g-dev)
    if $cross; then
      dpkg --add-architecture "$TARGETARCH"
      packages+=("g++-${gnu//_/-}" "libc6-dev-$TARGETARCH-cross" "libssl-dev:$TARGETARCH" "zlib1g-dev:$TARGETARCH")
    else
      packages+=(g++)
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    rm -rf /var/lib/apt/lists/*
    rustup target add "$triple"
    ;;
  build)
    package=${2:?usage: in-stage.sh build PACKAGE [--features F]}
    shift 2
    target_env=${triple//-/_}
    if $cross; then
      up=$(tr 'a-z-' 'A-Z_' <<<"$triple")
      # C/C++ (GDAL, PROJ, curl, SQLite, ring) with the cross gcc; libcurl's TLS and zlib link the
      # target's Debian libssl3/zlib, the libraries the image's runtime stage installs.
      export "CC_$target_env=$gnu-gcc" "CXX_$target_env=$gnu-g++" "AR_$target_env=$gnu-ar" \
        "CARGO_TARGET_${up}_LINKER=$gnu-gcc" PKG_CONFIG_ALLOW_CROSS=1 \
        "PKG_CONFIG_LIBDIR_$target_env=/usr/lib/$gnu/pkgconfig:/usr/share/pkgconfig" \
        "PKG_CONFIG_SYSROOT_DIR_$target_env=/"
    fi
    cargo build --release --locked --target "$triple" -p "$package" "$@"
    release=target/$triple/release
    mkdir -p /out/bin
    cp "$release/$package" /out/bin/
    if [[ " $* " == *bundled-gdal* ]]; then
      # The GDAL and PROJ data of this very build (PROJ needs its proj.db); the newest build
      # directory is the one just linked.
      proj=$(ls -td "$release"/build/proj-sys-*/out/share/proj | head -n1)
      gdal=$(ls -td "$release"/build/gdal-src-*/out/share/gdal | head -n1)
      mkdir -p /out/share
      cp -a "$proj" /out/share/proj
      cp -a "$gdal" /out/share/gdal
    fi
    ;;
  *)
    echo "usage: in-stage.sh deps | build PACKAGE [--features F]" >&2
    exit 2
    ;;
esac
