#!/usr/bin/env bash
# The image-push module's push.sh with the real Docker engine and a real registry (Debian's
# docker-registry on loopback), run as `terraform apply` runs it: one process per image, all at
# once. Small FROM-scratch images stand for ours (the engine stamps them linux/arm64 or
# linux/amd64; nothing runs them). What the registry holds is read back over its HTTP API
# (registry.py), not through docker: one login for the whole run (a counting wrapper around the
# CLI), each image pushed as one image manifest of its architecture, a local image of another
# architecture refused with nothing pushed, and a tag that holds an index or another
# architecture refused. (The module's stand-in test, tests/push-test.sh, covers the local
# index of Docker's containerd image store, which this engine's classic store cannot hold.)
#   scripts/images/push-test.sh      (`just test-images`; root, or DOCKER_HOST naming an engine)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/lib/moto.sh # free_port
py=$root/.venv/bin/python
fail() { echo "push-test: $*" >&2; exit 1; }
command -v docker-registry >/dev/null || fail "docker-registry is missing (just setup installs it)"

eval "$(scripts/images/engine.sh)"
work=$(mktemp -d)
registry_pid=""
cleanup() {
  [[ -z $registry_pid ]] || kill "$registry_pid" 2>/dev/null || true
  "$DOCKER_CLI" images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(stratus-push-test/|${registry:-none}/)" \
    | xargs -r "$DOCKER_CLI" rmi >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# This run's own CLI configuration and login state, not the user's.
export DOCKER_CONFIG=$work/docker-config TMPDIR=$work/tmp
mkdir -p "$DOCKER_CONFIG" "$TMPDIR"

registry=127.0.0.1:$(free_port)
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$work/registry" "$registry" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://$registry/v2/" >/dev/null || fail "the registry did not start: $(cat "$work/registry.log")"

# The CLI push.sh runs: the real one, with each login counted.
cat >"$work/cli" <<CLI
#!/usr/bin/env bash
[[ \$1 != login ]] || echo login >>"$work/logins"
exec "$DOCKER_CLI" "\$@"
CLI
chmod +x "$work/cli"
: >"$work/logins"

for arch in arm64 amd64; do
  mkdir -p "$work/ctx-$arch" && echo "$arch" >"$work/ctx-$arch/marker"
  printf 'FROM scratch\nCOPY marker /marker\n' >"$work/ctx-$arch/Dockerfile"
  DOCKER_BUILDKIT=1 "$DOCKER_CLI" build -q --platform "linux/$arch" -t "stratus-push-test/tiny:$arch" "$work/ctx-$arch" >/dev/null
done
echo "engine $("$DOCKER_CLI" version --format '{{.Server.Version}}'), registry $registry"

failures=0
check() { # <what> <condition…>
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; failures=$((failures + 1)); fi
}
push() { # <local arch> <target repository:tag> [log]
  CONTAINER_CLI=$work/cli ARCHITECTURE=arm64 SOURCE_IMAGE=stratus-push-test/tiny:$1 TARGET_IMAGE=$registry/$2 \
    REGISTRY=$registry REGISTRY_USER=stratus REGISTRY_PASSWORD=apply-1 \
    bash terraform/modules/image-push/push.sh >"${3:-/dev/null}" 2>&1
}
# What the registry holds under repository:tag, read over its API: "<media type> <platform>", or "absent".
held() {
  "$py" - "$registry" "$1" <<'PY'
import sys, urllib.error
sys.path.insert(0, "scripts/images")
import registry
host, ref = sys.argv[1:]
try:
    m = registry.manifest(host, *ref.rsplit(":", 1))
    print(m.media_type, m.platform or "index")
except urllib.error.HTTPError as e:
    print("absent" if e.code == 404 else f"HTTP {e.code}")
PY
}

pids=""
for i in 1 2 3 4; do push arm64 "stratus/gdal-lambda:t$i" "$work/push-$i.log" & pids="$pids $!"; done
ok=1
for p in $pids; do wait "$p" || ok=0; done
[[ $ok == 1 ]] || cat "$work"/push-*.log
check "four parallel pushes succeed" test $ok = 1
check "one login for them all: $(wc -l <"$work/logins" | tr -d ' ')" test "$(wc -l <"$work/logins" | tr -d ' ')" = 1
for i in 1 2 3 4; do
  check "the registry holds t$i as one arm64 image manifest" \
    test "$(held "stratus/gdal-lambda:t$i")" = "application/vnd.docker.distribution.manifest.v2+json linux/arm64"
done
check "a tag already there is reused" push arm64 stratus/gdal-lambda:t1 "$work/reuse.log"
check "saying so" grep -q 'already in the registry (application/vnd.docker.distribution.manifest.v2+json linux/arm64), reused' "$work/reuse.log"

push amd64 stratus/gdal-lambda:wrong-arch "$work/arch.log" && echo accepted >>"$work/arch.log"
check "a local amd64 image is refused for an arm64 deployment" grep -q 'is a linux/amd64 image; this deployment runs linux/arm64' "$work/arch.log"
check "and never reaches the registry" test "$(held stratus/gdal-lambda:wrong-arch)" = absent

# Tags that already hold what Lambda cannot run: an index, and an amd64 image.
"$DOCKER_CLI" tag stratus-push-test/tiny:amd64 "$registry/stratus/other:amd64"
"$DOCKER_CLI" push -q "$registry/stratus/other:amd64" >/dev/null
"$DOCKER_CLI" manifest create --insecure "$registry/stratus/gdal-lambda:index" \
  "$registry/stratus/gdal-lambda:t1" "$registry/stratus/other:amd64" >/dev/null
"$DOCKER_CLI" manifest push --insecure "$registry/stratus/gdal-lambda:index" >/dev/null
check "the registry holds an index under gdal-lambda:index" test "$(held stratus/gdal-lambda:index)" = "application/vnd.docker.distribution.manifest.list.v2+json index"
push arm64 stratus/gdal-lambda:index "$work/index.log" && echo accepted >>"$work/index.log"
check "a tag holding an index is refused, saying what is there and what to do" \
  grep -q 'already in the registry and holds an image index (manifests for: linux/arm64 linux/amd64), which Lambda cannot run; nothing was pushed.*batch-delete-image' "$work/index.log"
"$DOCKER_CLI" tag stratus-push-test/tiny:amd64 "$registry/stratus/gdal-lambda:held-amd64"
"$DOCKER_CLI" push -q "$registry/stratus/gdal-lambda:held-amd64" >/dev/null
push arm64 stratus/gdal-lambda:held-amd64 "$work/held.log" && echo accepted >>"$work/held.log"
check "a tag holding an amd64 image is refused" grep -q 'holds a linux/amd64 image, not linux/arm64' "$work/held.log"
check "and is left as it was" test "$(held stratus/gdal-lambda:held-amd64)" = "application/vnd.docker.distribution.manifest.v2+json linux/amd64"

if ((failures)); then
  echo "push-test: $failures failed" >&2
  exit 1
fi
echo "push-test: push.sh with the real engine and registry: all passed"
