# shellcheck shell=bash
# The local AWS (moto) of the scripts (demo, images, Terraform round trip). Sourced, then:
#
#   moto_start LOG [NAME=VALUE…]  starts moto_server on a free loopback port, its output in LOG
#                                 and NAME=VALUE in its environment; returns once moto answers.
#                                 Fails, showing LOG's last lines, when moto exits first or has
#                                 not answered after MOTO_START_SECONDS (default 30).
#   moto_stop                     stops it; for the caller's EXIT trap (a no-op when not running).
#   free_port                     prints a free TCP port on 127.0.0.1.
#
# Once moto answers, MOTO_PORT and MOTO_ENDPOINT (http://127.0.0.1:PORT) are exported, and so are
# the variables the AWS SDKs and CLIs read (AWS_ENDPOINT_URL, test credentials, us-east-1, no
# instance metadata): what the script runs talks to moto, never to an AWS account.
# MOTO_SERVER overrides the server (default: .venv/bin/moto_server, which `just setup` installs).

_moto_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
moto_pid=""

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_moto_say_failed() { # <log> <message>
  echo "moto: $2" >&2
  if [[ -s $1 ]]; then
    echo "--- last lines of $1 ---" >&2
    tail -n 20 "$1" >&2
  fi
}

moto_start() { # <log> [NAME=VALUE…]
  local log=$1 server=${MOTO_SERVER:-$_moto_root/.venv/bin/moto_server} port rc
  shift
  [[ -x $server ]] || { echo "moto: $server is missing (just setup installs it)" >&2; return 1; }
  port=$(free_port)
  env "$@" "$server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  moto_pid=$!
  local deadline=$((SECONDS + ${MOTO_START_SECONDS:-30}))
  until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/moto-api/"; do
    if ! kill -0 "$moto_pid" 2>/dev/null; then
      rc=0
      wait "$moto_pid" || rc=$?
      moto_pid=""
      _moto_say_failed "$log" "moto_server exited (status $rc) before answering on port $port"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      moto_stop
      _moto_say_failed "$log" "moto_server did not answer on port $port within ${MOTO_START_SECONDS:-30} s"
      return 1
    fi
    sleep 0.1
  done
  export MOTO_PORT=$port MOTO_ENDPOINT=http://127.0.0.1:$port
  export AWS_ENDPOINT_URL=$MOTO_ENDPOINT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
}

moto_stop() {
  [[ -n $moto_pid ]] || return 0
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  moto_pid=""
}
