#!/usr/bin/env bash
# A Docker engine for `just test-images`: the one DOCKER_HOST names if it answers, else Debian's
# dockerd started here (root) with its data root, build cache and socket under
# /var/lib/stratus/docker: outside any checkout, so a later run (a fresh CI clone on the same
# machine) reuses the images and the build cache (GDAL compiled once). Prints the DOCKER_HOST to
# use, and the path of a Docker CLI whose `docker build` has BuildKit built in (Debian's, where the
# machine's first `docker` lacks the buildx plugin).
#   eval "$(scripts/images/engine.sh --lease $$)"   sets DOCKER_HOST and DOCKER_CLI; the engine is
#                                                   held for process $$ (a lease)
#   scripts/images/engine.sh release PID            gives PID's lease back; a dockerd started here
#                                                   for a lease stops when no live process holds
#                                                   one (its images and build cache stay on disk);
#                                                   one started without a lease is left running
#   scripts/images/engine.sh clean                  stops that dockerd and deletes its data root,
#                                                   build cache included (`just clean-engine`)
# An engine DOCKER_HOST names is never stopped or cleaned.
set -euo pipefail
dir=${STRATUS_DOCKER_DIR:-/var/lib/stratus/docker}
leases=$dir/leases

# The dockerd started here, if it runs.
ours() {
  local pid
  pid=$(cat "$dir/docker.pid" 2>/dev/null) && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}
stop_ours() {
  local pid
  pid=$(ours) || return 0
  # Started without a lease (by hand, or by a script that takes none): its users are unknown.
  [[ ${1:-} == --any || -f $dir/leased ]] || return 0
  kill "$pid"
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { echo "engine: dockerd $pid did not stop" >&2; return 1; }
  echo "engine: stopped dockerd (its images and build cache stay in $dir; \`just clean-engine\` deletes them)" >&2
}
case ${1:-} in
  release)
    rm -f "$leases/${2:?usage: engine.sh release PID}"
    for lease in "$leases"/*; do
      [[ -e $lease ]] && kill -0 "${lease##*/}" 2>/dev/null && exit 0 # still held
      rm -f "$lease"
    done
    stop_ours
    exit
    ;;
  clean)
    stop_ours --any
    rm -rf "$dir"
    echo "engine: deleted $dir" >&2
    exit 0
    ;;
  --lease) mkdir -p "$leases" && : >"$leases/${2:?usage: engine.sh --lease PID}" && lease=$2 ;;
  "") ;;
  *) echo "usage: engine.sh [--lease PID] | release PID | clean" >&2; exit 2 ;;
esac

# A CLI that can build: one with buildx, else Debian's (BuildKit in `docker build`).
cli=""
for c in docker /usr/bin/docker; do
  if command -v "$c" >/dev/null && "$c" buildx version >/dev/null 2>&1; then cli=$(command -v "$c"); break; fi
done
if [[ -z $cli && -x /usr/bin/docker ]] && /usr/bin/docker --version | grep -q '^Docker version 2'; then
  cli=/usr/bin/docker
fi
[[ -n $cli ]] || cli=$(command -v docker || true)
[[ -n $cli ]] || { echo "engine: no docker CLI (just setup installs Debian's docker.io)" >&2; exit 1; }

if [[ -n ${DOCKER_HOST:-} ]] && "$cli" info >/dev/null 2>&1; then
  printf 'export DOCKER_HOST=%q DOCKER_CLI=%q\n' "$DOCKER_HOST" "$cli"
  exit 0
fi
sock=unix://$dir/docker.sock
start() { # <storage driver>
  # No bridge or iptables here: builds and containers use the host's network (--network host).
  setsid dockerd --storage-driver="$1" --iptables=false --ip-masq=false --bridge=none \
    --data-root "$dir/root-$1" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" -H "$sock" \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 100); do
    DOCKER_HOST=$sock "$cli" info >/dev/null 2>&1 && return 0
    kill -0 $! 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
if ! DOCKER_HOST=$sock "$cli" info >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || { echo "engine: starting dockerd needs root (or set DOCKER_HOST)" >&2; exit 1; }
  command -v dockerd >/dev/null || { echo "engine: dockerd is missing (just setup installs docker.io)" >&2; exit 1; }
  mkdir -p "$dir/exec"
  if [[ -n ${lease:-} ]]; then : >"$dir/leased"; else rm -f "$dir/leased"; fi
  # overlay2 where the file system allows it; vfs (full copies, slower) where it does not.
  start overlay2 || start vfs \
    || { tail -n 20 "$dir/dockerd.log" >&2; echo "engine: dockerd did not start" >&2; exit 1; }
  echo "engine: started dockerd ($dir, $("$cli" -H "$sock" info --format '{{.Driver}}'))" >&2
fi
printf 'export DOCKER_HOST=%q DOCKER_CLI=%q\n' "$sock" "$cli"
