#!/usr/bin/env bash
# Tests of scripts/lib/moto.sh: the real moto starts, answers on the exported endpoint and is
# gone after moto_stop; a server that exits at once, and one that never answers, make moto_start
# fail (quickly, saying why) instead of leaving the script to talk to nothing.
#   scripts/lib/moto-test.sh        (`just test-scripts`)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/moto.sh
source "$root/scripts/lib/moto.sh"
work=$(mktemp -d)
trap 'moto_stop; rm -rf "$work"' EXIT
failures=0
check() { # <what> <condition…>
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; failures=$((failures + 1)); fi
}

# Each case runs in a subshell, so the exported variables of one do not leak into the next.
( # moto itself
  moto_start "$work/moto.log" MOTO_IAM_LOAD_MANAGED_POLICIES=true
  pid=$moto_pid
  check "the endpoint variables name moto's port" \
    test "$AWS_ENDPOINT_URL" = "http://127.0.0.1:$MOTO_PORT" -a "$MOTO_ENDPOINT" = "$AWS_ENDPOINT_URL"
  check "moto answers there" curl -fs -o /dev/null "$AWS_ENDPOINT_URL/moto-api/"
  check "the given environment reaches moto" grep -qz MOTO_IAM_LOAD_MANAGED_POLICIES=true "/proc/$pid/environ"
  moto_stop
  check "moto_stop stops it" bash -c "! kill -0 $pid 2>/dev/null"
  exit "$failures"
) || failures=$((failures + $?))

expect_failure() { # <what> <expected message> <server script>
  printf '#!/usr/bin/env bash\n%s\n' "$3" >"$work/server"
  chmod +x "$work/server"
  local start=$SECONDS rc=0
  (MOTO_SERVER=$work/server MOTO_START_SECONDS=3 moto_start "$work/fake.log") 2>"$work/err" || rc=$?
  check "$1: moto_start fails" test "$rc" != 0
  check "$1: in $((SECONDS - start)) s, not after a long wait" test $((SECONDS - start)) -le 5
  check "$1: and says so" grep -q "$2" "$work/err"
}
expect_failure "a server that exits at once" "exited (status 3)" 'echo "port in use" >&2; exit 3'
check "a server that exits at once: its output is shown" grep -q "port in use" "$work/err"
expect_failure "a server that never answers" "did not answer" 'echo "pid $$"; exec sleep 60'
# The timed-out server has been stopped, not left behind.
pid=$(sed -n 's/^pid //p' "$work/fake.log")
check "a server that never answers is stopped" bash -c "! kill -0 $pid 2>/dev/null"

((failures == 0)) || { echo "moto-test: $failures failed" >&2; exit 1; }
echo "moto-test: all passed"
