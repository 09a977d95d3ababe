#!/usr/bin/env bash
# Runs inside the images' build stage (images/*/Dockerfile), which runs on the build machine's
# platform ($BUILDPLATFORM) and compiles for $TARGETARCH: rustc and the C/C++ compilers never run
# under emulation.
#   in-stage.sh deps [--static]               the toolchain for TARGETARCH: cmake, pkg-config, a C/C++
#                                             compiler for the target (Debian's cross gcc when it is not
#                                             the build machine's) and the target's libssl and zlib;
#                                             --static: musl's headers and libc for the target instead
#   in-stage.sh build PACKAGE [--static] [--features F]
#                                             cargo build --release of PACKAGE for TARGETARCH, the
#                                             binary copied to /out/bin; --static: for
#                                             <arch>-unknown-linux-musl, a binary that needs no libc
#                                             (it runs on Amazon Linux and Debian bases alike)
#   in-stage.sh check PACKAGE [--static]      cargo check of PACKAGE for TARGETARCH: every C
#                                             dependency compiled by the target's toolchain, nothing
#                                             linked (`just check-cross`, in minutes)
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
static=false
if [[ ${2:-} == --static || ${3:-} == --static ]]; then
  static=true
  triple=${triple/-gnu/-musl}
fi

if [[ -s /run/secrets/ca ]]; then
  export SSL_CERT_FILE=/run/secrets/ca CARGO_HTTP_CAINFO=/run/secrets/ca
fi

case ${1:-} in
  deps)
    # sqlite3: PROJ builds its proj.db with it, on the build machine.
    packages=(cmake pkg-config make sqlite3 libssl-dev zlib1g-dev)
    # The build machine's own compiler in every case: build scripts and proc macros run here
    # (the official Rust image has it; a leaner base may not).
    if $static; then
      # C code (aws-lc, ring) compiled by Debian's gcc for the target against musl's headers,
      # through the musl-gcc specs of Debian's musl-dev: `<arch>-linux-musl-gcc`, which `build`
      # names to the cc crate.
      $cross && dpkg --add-architecture "$TARGETARCH"
      if $cross; then packages=(make gcc libc6-dev "gcc-${gnu//_/-}" "musl-dev:$TARGETARCH"); else packages=(make gcc musl-dev); fi
      musl=${gnu%-gnu}-musl
      printf '#!/bin/sh\nexec %s-gcc -specs /usr/lib/%s/musl-gcc.specs "$@"\n' "$gnu" "$musl" >"/usr/local/bin/$musl-gcc"
      chmod +x "/usr/local/bin/$musl-gcc"
    elif $cross; then
      dpkg --add-architecture "$TARGETARCH"
      packages+=(g++ "g++-${gnu//_/-}" "libc6-dev-$TARGETARCH-cross" "libssl-dev:$TARGETARCH" "zlib1g-dev:$TARGETARCH")
    else
      packages+=(g++)
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    rm -rf /var/lib/apt/lists/*
    rustup target add "$triple"
    ;;
  build | check)
    command=$1
    package=${2:?usage: in-stage.sh build|check PACKAGE [--static] [--features F]}
    shift 2
    [[ ${1:-} == --static ]] && shift
    target_env=${triple//-/_}
    if $static; then
      # Rust's musl targets link their own crt and libc; gcc only drives the linker. C (ring,
      # aws-lc) goes through the musl wrapper `deps` made, named outright: the cc crate would
      # otherwise fall back to <arch>-linux-gnu-gcc and the build machine's glibc headers.
      export "AR_$target_env=$gnu-ar" "CC_$target_env=${gnu%-gnu}-musl-gcc"
      $cross && export "CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$triple")_LINKER=$gnu-gcc"
    elif $cross; then
      up=$(tr 'a-z-' 'A-Z_' <<<"$triple")
      # C/C++ (GDAL, PROJ, curl, SQLite, ring) with the cross gcc; libcurl's TLS and zlib link the
      # target's Debian libssl3/zlib, the libraries the image's runtime stage installs.
      export "CC_$target_env=$gnu-gcc" "CXX_$target_env=$gnu-g++" "AR_$target_env=$gnu-ar" \
        "CARGO_TARGET_${up}_LINKER=$gnu-gcc" PKG_CONFIG_ALLOW_CROSS=1 \
        "PKG_CONFIG_LIBDIR_$target_env=/usr/lib/$gnu/pkgconfig:/usr/share/pkgconfig" \
        "PKG_CONFIG_SYSROOT_DIR_$target_env=/"
    fi
    if [[ $command == check ]]; then
      cargo check --release --locked --target "$triple" -p "$package" "$@"
      exit
    fi
    cargo build --release --locked --target "$triple" -p "$package" "$@"
    release=target/$triple/release
    mkdir -p /out/bin
    cp "$release/$package" /out/bin/
    ;;
  *)
    echo "usage: in-stage.sh deps [--static] | build|check PACKAGE [--static] [--features F]" >&2
    exit 2
    ;;
esac
