#!/usr/bin/env bash
# Tests engine.sh's leases on an engine of its own (a temporary data root): a dockerd started for a
# run stops when the last process holding it gives its lease back or is gone, never while another
# holds it; its data root stays until `clean`. Needs root and dockerd (just setup), as test-images does.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
fail() { echo "engine-test: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] && command -v dockerd >/dev/null || { echo "engine-test: skipped (needs root and dockerd)"; exit 0; }

export STRATUS_DOCKER_DIR
STRATUS_DOCKER_DIR=$(mktemp -d /var/tmp/stratus-engine-test.XXXXXX)
unset DOCKER_HOST
holder=""
trap '[[ -n $holder ]] && kill "$holder" 2>/dev/null; scripts/images/engine.sh clean >/dev/null 2>&1 || true' EXIT
running() { local pid; pid=$(cat "$STRATUS_DOCKER_DIR/docker.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

# Started without a lease (by hand): a leased run that comes and goes leaves it running.
scripts/images/engine.sh >/dev/null 2>&1
bash -c 'eval "$(scripts/images/engine.sh --lease $$ 2>/dev/null)"; scripts/images/engine.sh release $$ 2>/dev/null'
running || fail "a leased run stopped an engine started without a lease"
scripts/images/engine.sh clean 2>/dev/null
running && fail "clean left dockerd running"
mkdir -p "$STRATUS_DOCKER_DIR"

sleep 300 & holder=$!
eval "$(scripts/images/engine.sh --lease "$holder" 2>/dev/null)"
"$DOCKER_CLI" -H "$DOCKER_HOST" info >/dev/null || fail "the engine does not answer"
running || fail "no dockerd recorded"

# A second user comes and goes: the first still holds the engine.
bash -c 'eval "$(scripts/images/engine.sh --lease $$ 2>/dev/null)"; scripts/images/engine.sh release $$ 2>/dev/null'
running || fail "stopped while another process held a lease"

# The holder dies without releasing: the next release finds its lease stale and stops the engine.
kill "$holder"; wait "$holder" 2>/dev/null || true; holder=""
bash -c 'eval "$(scripts/images/engine.sh --lease $$ 2>/dev/null)"; scripts/images/engine.sh release $$ 2>/dev/null'
running && fail "still running after the last lease was given back"
[[ -d $STRATUS_DOCKER_DIR/root-overlay2 || -d $STRATUS_DOCKER_DIR/root-vfs ]] || fail "the data root (build cache) was not kept"

scripts/images/engine.sh clean 2>/dev/null
[[ ! -e $STRATUS_DOCKER_DIR ]] || fail "clean left $STRATUS_DOCKER_DIR"
echo "engine-test: leases hold the engine, the last release stops it, its data stays until clean"
