#!/usr/bin/env bash
# Tests of push.sh with the stand-in CLI, run as `terraform apply` runs it: one process per image,
# all at once. Several images log in once per registry and token, one login at a time, and
# push in parallel; a local image of another architecture or stored as an index is refused before
# anything reaches the registry; a tag the registry already holds is reused only if it is one image
# manifest of the right architecture. (scripts/images/push-test.sh runs it with the real engine.)
#   terraform/modules/image-push/tests/push-test.sh      (`just test-scripts`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STAND_IN_DIR=$work/cli TMPDIR=$work/tmp CONTAINER_CLI=$here/stand-in-cli ARCHITECTURE=arm64
mkdir -p "$STAND_IN_DIR/registry" "$TMPDIR"
failures=0
check() { # <what> <condition…>
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; failures=$((failures + 1)); fi
}
count() { grep -c "$1" "$STAND_IN_DIR/log" 2>/dev/null || true; }
push() { # <registry> <repository:tag> <token> [log]: push.sh as the image-push module runs it
  SOURCE_IMAGE=stratus/${2} TARGET_IMAGE=$1/$2 REGISTRY=$1 REGISTRY_USER=AWS REGISTRY_PASSWORD=$3 \
    bash "$here/../push.sh" >"${4:-/dev/null}" 2>&1
}
ecr1=111111111111.dkr.ecr.us-east-1.amazonaws.com ecr2=222222222222.dkr.ecr.us-east-1.amazonaws.com

# Eight images into two registries, all at once, as one apply with one token.
pids=""
for i in 1 2 3 4 5 6; do push "$ecr1" "gdal-lambda:0.1.0-abc-arm64-$i" token-1 & pids="$pids $!"; done
for i in 1 2; do push "$ecr2" "run-lambda:0.1.0-abc-arm64-$i" token-1 & pids="$pids $!"; done
ok=1
for p in $pids; do wait "$p" || ok=0; done
check "eight parallel pushes succeed" test $ok = 1
check "one login per registry: $(count '^login') logins" test "$(count "^login $ecr1$")/$(count "^login $ecr2$")" = 1/1
check "no two logins at once, even to different registries" test "$(count overlapping)" = 0
check "every image is pushed: $(count '^push')" test "$(count '^push')" = 8

# The next apply has a new token: one more login per registry; the tags there are reused.
: >"$STAND_IN_DIR/log"
pids=""
for i in 1 2 3; do push "$ecr1" "gdal-lambda:0.1.0-abc-arm64-$i" token-2 "$work/reuse-$i.log" & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
check "a new token logs in again, once" test "$(count '^login')" = 1
check "a tag the registry holds as the right image is reused, not pushed" \
  test "$(count '^push')/$(grep -c 'already in the registry' "$work"/reuse-*.log | grep -c ':1$')" = 0/3

# Refused before anything reaches the registry.
: >"$STAND_IN_DIR/log"
STAND_IN_ARCH=amd64 push "$ecr1" gdal-lambda:0.1.0-abc-amd64 token-2 "$work/arch.log" && echo "accepted" >"$work/arch.log"
check "a local amd64 image is refused for an arm64 deployment" grep -q 'is a linux/amd64 image; this deployment runs linux/arm64' "$work/arch.log"
STAND_IN_LOCAL_INDEX=1 push "$ecr1" gdal-lambda:0.1.0-abc-arm64-index token-2 "$work/index.log" && echo "accepted" >"$work/index.log"
check "a local image index is refused" grep -q 'stored as application/vnd.oci.image.index.v1+json (an image index' "$work/index.log"
check "neither was tagged or pushed" test "$(count '^tag')$(count '^push')" = 00
check "the registry holds neither" test ! -e "$STAND_IN_DIR/registry/${ecr1}_gdal-lambda_0.1.0-abc-amd64" -a ! -e "$STAND_IN_DIR/registry/${ecr1}_gdal-lambda_0.1.0-abc-arm64-index"

# A tag already in the registry that is not this deployment's kind of image stops the apply.
echo index >"$STAND_IN_DIR/registry/${ecr1}_gdal-lambda_0.1.0-held-index"
push "$ecr1" gdal-lambda:0.1.0-held-index token-2 "$work/held-index.log" && echo "accepted" >"$work/held-index.log"
check "an index under the tag is refused, saying what to do" \
  grep -q "already in the registry and holds an image index (manifests for: linux/arm64 linux/amd64).*batch-delete-image --repository-name gdal-lambda --image-ids imageTag=0.1.0-held-index" "$work/held-index.log"
echo "image amd64" >"$STAND_IN_DIR/registry/${ecr1}_gdal-lambda_0.1.0-held-amd64"
push "$ecr1" gdal-lambda:0.1.0-held-amd64 token-2 "$work/held-arch.log" && echo "accepted" >"$work/held-arch.log"
check "another architecture under the tag is refused" grep -q 'holds a linux/amd64 image, not linux/arm64' "$work/held-arch.log"
check "nothing was pushed over them" test "$(count '^push')" = 0

# A lock left by an apply that was killed is taken over.
lock=$TMPDIR/stratus-image-push-$(id -u)/login.lock
mkdir "$lock" && sh -c 'echo $$' >"$lock/pid"
check "a stale lock does not block the push" push "$ecr2" run-lambda:0.1.0-abc-arm64-9 token-3
check "and is gone after it" test ! -e "$lock"

if ((failures)); then echo "push-test: $failures failed" >&2; exit 1; fi
echo "push-test: all passed"
