#!/usr/bin/env bash
# Local stand-ins for the images' pinned bases, for machines that cannot pull from Docker Hub or
# public ECR (`just test-images`): loaded into the Docker engine at DOCKER_HOST.
#   localhost/stratus-base:{bookworm,trixie}-<arch>
#                                debian:{bookworm,trixie}-slim: a `debootstrap --variant=minbase`
#                                Debian, slimmed as Docker's -slim images are
#   localhost/stratus-rust:bookworm-<arch>
#                                rust:bookworm for the build stage: bookworm with this machine's Rust
#                                toolchain (rustup, cargo, rustc and the targets installed) in
#                                /usr/local, as the official image has it
#   localhost/stratus-lambda:python3.11-<arch>, :python3.13-<arch>
#                                AWS's public.ecr.aws/lambda/python bases as run-lambda, and a
#                                container-image function built on them, use them: bookworm's
#                                Python 3.11 or trixie's 3.13 in /var/lang (a venv with boto3),
#                                awslambdaric in /var/runtime, and AWS's entry layout: ENTRYPOINT
#                                /lambda-entrypoint.sh taking the handler as the image's CMD and
#                                starting /var/runtime/bootstrap (the client) on the Runtime API of
#                                AWS_LAMBDA_RUNTIME_API, WORKDIR /var/task
#   localhost/stratus-lambda:nodejs<N>-<arch>
#                                public.ecr.aws/lambda/nodejs:<N>: this machine's Node.js <N> in
#                                /var/lang/bin and the aws-lambda-ric scripts/setup built, in
#                                /var/runtime (only for this machine's architecture)
# Existing images are reused unless --force. A foreign ARCH's base runs under qemu (emulation.sh).
#   scripts/images/standins.sh [--force] ARCH
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
force=false
[[ ${1:-} == --force ]] && { force=true; shift; }
arch=${1:-$(host_arch)}
docker=${DOCKER_CLI:-docker}
base=localhost/stratus-base:bookworm-$arch
trixie=localhost/stratus-base:trixie-$arch
rust=localhost/stratus-rust:bookworm-$(host_arch)

# IMAGE is there, for linux/ARCH (and made by this version of its recipe, when one is given).
have() { # <image> <arch> [recipe version]
  ! $force && [[ $("$docker" image inspect -f '{{.Os}}/{{.Architecture}} {{index .Config.Labels "stratus.standin"}}' "$1" 2>/dev/null) == "linux/$2 ${3:-}" ]]
}

# The first Debian (not security) mirror among apt's sources, one-line or deb822.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -Eo '(https?://[^ ]+/debian)/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}

# debootstrap a slim Debian SUITE (default bookworm) for ARCH into DIR.
bootstrap() { # <arch> <dir> [suite]
  local a=$1 root=$2 suite=${3:-bookworm}
  command -v debootstrap >/dev/null || { echo "standins: debootstrap is missing (just setup installs it)" >&2; exit 1; }
  [[ $(id -u) == 0 ]] || { echo "standins: debootstrap needs root" >&2; exit 1; }
  "$here/emulation.sh" "$a"
  echo "standins: debootstrap $suite ($a) from $mirror"
  debootstrap --variant=minbase --arch="$a" "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 30 "$root.log" >&2; echo "standins: debootstrap failed" >&2; exit 1; }
  rm -f "$root.log"
  # As in Docker's debian:*-slim images: no apt caches (also after later installs), no docs,
  # man pages or translations (also of packages installed later).
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
CFG
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/usr/share/groff/* "$root"/usr/share/lintian/*
}

# Loads DIR as IMAGE for linux/ARCH, with the Dockerfile LINES after its FROM. A BuildKit build
# from scratch, because `docker import --platform` labels the image with the engine's own
# architecture unless the engine runs experimental.
load() { # <dir> <arch> <image> [Dockerfile line…]
  local root=$1 a=$2 image=$3 ctx
  shift 3
  ctx=$(mktemp -d "$work/load.XXXXXX")
  tar -C "$root" -cf "$ctx/rootfs.tar" .
  {
    echo 'FROM scratch'
    echo 'ADD rootfs.tar /'
    echo 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    printf '%s\n' "$@"
  } >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=1 "$docker" build --quiet --platform "linux/$a" -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
}

work=$(mktemp -d /var/tmp/stratus-standins.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! have "$base" "$arch"; then
  start=$SECONDS
  bootstrap "$arch" "$work/base"
  load "$work/base" "$arch" "$base" 'CMD ["bash"]'
  echo "standins: $base ready in $((SECONDS - start)) s"
else
  echo "standins: reusing $base"
fi

if ! have "$trixie" "$arch"; then
  start=$SECONDS
  bootstrap "$arch" "$work/trixie" trixie
  load "$work/trixie" "$arch" "$trixie" 'CMD ["bash"]'
  rm -rf "$work/trixie"
  echo "standins: $trixie ready in $((SECONDS - start)) s"
else
  echo "standins: reusing $trixie"
fi

if ! have "$rust" "$(host_arch)"; then
  start=$SECONDS
  rustup_home=$(rustup show home)
  toolchain=$(rustup show active-toolchain | cut -d' ' -f1)
  [[ -d $rustup_home/toolchains/$toolchain ]] || { echo "standins: no Rust toolchain here (rustup)" >&2; exit 1; }
  if [[ $arch != "$(host_arch)" ]]; then
    rustup target add "$(rust_triple "$arch")" >/dev/null
  fi
  if [[ $(host_arch) == "$arch" && -d $work/base ]]; then
    mv "$work/base" "$work/rust"
  else
    bootstrap "$(host_arch)" "$work/rust"
  fi
  mkdir -p "$work/rust/usr/local/rustup/toolchains" "$work/rust/usr/local/cargo/bin"
  cp -a "$rustup_home/toolchains/$toolchain" "$work/rust/usr/local/rustup/toolchains/"
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" \
    >"$work/rust/usr/local/rustup/settings.toml"
  cp "$(command -v rustup)" "$work/rust/usr/local/cargo/bin/rustup"
  for tool in cargo rustc rustdoc; do ln -s rustup "$work/rust/usr/local/cargo/bin/$tool"; done
  load "$work/rust" "$(host_arch)" "$rust" 'ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo' \
    'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  echo "standins: $rust ready in $((SECONDS - start)) s (toolchain $toolchain)"
else
  echo "standins: reusing $rust"
fi

# AWS's Lambda base layout on a stand-in Debian: the interpreter in /var/lang/bin, the runtime
# interface client in /var/runtime, Lambda's variables. Built with pip from PyPI (the versions
# images/run-lambda/requirements.txt pins), on the host's network.
lambda_env='ENV LANG=C.UTF-8 PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime'
# The version of the Python stand-ins' recipe (its label): a stand-in made by an older one is remade.
python_recipe=2
python_standin() { # <image> <debian image>
  local image=$1 debian=$2 ctx secret=()
  if have "$image" "$arch" "$python_recipe"; then echo "standins: reusing $image"; return; fi
  start=$SECONDS
  ctx=$(mktemp -d "$work/lambda.XXXXXX")
  cp "$here/../../images/run-lambda/requirements.txt" "$ctx/"
  # AWS's entry layout, in our own words: the handler (the image's CMD) is the one argument;
  # with a Runtime API to talk to, the runtime interface client starts on it. (AWS's images
  # start their Runtime Interface Emulator without one; the stand-in has none.)
  cat >"$ctx/lambda-entrypoint.sh" <<'SH'
#!/bin/sh
if [ $# -ne 1 ]; then
  echo "lambda-entrypoint: the handler is the one argument (the image's CMD)" >&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  echo "lambda-entrypoint: no AWS_LAMBDA_RUNTIME_API, and this stand-in has no Runtime Interface Emulator" >&2
  exit 1
fi
exec /var/runtime/bootstrap
SH
  cat >"$ctx/bootstrap" <<'SH'
#!/bin/sh
# Python's runtime: the runtime interface client on the handler, the function's code importable.
cd "${LAMBDA_TASK_ROOT:-/var/task}" || exit 127
PYTHONPATH="/var/runtime:${LAMBDA_TASK_ROOT:-/var/task}${PYTHONPATH:+:$PYTHONPATH}" \
  exec /var/lang/bin/python3 -m awslambdaric "$_HANDLER"
SH
  chmod 755 "$ctx/lambda-entrypoint.sh" "$ctx/bootstrap"
  [[ -s /etc/ssl/certs/ca-certificates.crt ]] && secret=(--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt)
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $debian
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates python3 python3-venv >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/
RUN --mount=type=secret,id=ca,required=false if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python3 -m venv /var/lang \
 && /var/lang/bin/pip install -q --no-cache-dir --disable-pip-version-check \$(grep -i '^boto3==' /tmp/requirements.txt) \
 && /var/lang/bin/pip install -q --no-cache-dir --disable-pip-version-check --target /var/runtime \$(grep -i '^awslambdaric==' /tmp/requirements.txt) \
 && rm /tmp/requirements.txt && mkdir -p /var/task
COPY lambda-entrypoint.sh /lambda-entrypoint.sh
COPY bootstrap /var/runtime/bootstrap
$lambda_env
LABEL stratus.standin=$python_recipe
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
DOCKERFILE
  DOCKER_BUILDKIT=1 "$docker" build --quiet --network host "${secret[@]}" --platform "linux/$arch" -t "$image" "$ctx" >/dev/null
  echo "standins: $image ready in $((SECONDS - start)) s"
}
python_standin "localhost/stratus-lambda:python3.11-$arch" "$base"
python_standin "localhost/stratus-lambda:python3.13-$arch" "$trixie"

node_client=$here/../../node/node_modules/aws-lambda-ric
if [[ $arch == "$(host_arch)" ]] && command -v node >/dev/null && [[ -f $node_client/package.json ]]; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  image=localhost/stratus-lambda:nodejs$major-$arch
  if have "$image" "$arch"; then
    echo "standins: reusing $image"
  else
    start=$SECONDS
    ctx=$(mktemp -d "$work/lambda.XXXXXX")
    mkdir -p "$ctx/root/var/lang/bin" "$ctx/root/var/runtime"
    cp "$(readlink -f "$(command -v node)")" "$ctx/root/var/lang/bin/node"
    # The client without the sources of its native part (deps/), which it no longer needs.
    tar -C "$node_client" --exclude=./deps -cf - . | tar -C "$ctx/root/var/runtime" -xf -
    printf 'FROM %s\nCOPY root/ /\n%s\n' "$base" "$lambda_env" >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=1 "$docker" build --quiet --platform "linux/$arch" -t "$image" "$ctx" >/dev/null
    echo "standins: $image ready in $((SECONDS - start)) s (Node.js $(node --version))"
  fi
else
  echo "standins: no Node.js stand-in for $arch (it takes this machine's node and scripts/setup's aws-lambda-ric)"
fi
