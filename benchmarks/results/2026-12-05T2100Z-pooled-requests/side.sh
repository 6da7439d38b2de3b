#!/usr/bin/env bash
# side.sh PUBLISH_DIR SCENARIO-ARGS... : warm fresh server, then harness compare against sails signalr
set -euo pipefail
dir=$1; shift
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dir" && exec env DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/side-server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; kill -0 $pid; done
/work/shared/bench/run "url:http://127.0.0.1:$port" joinleave C=20 D=5 "pids=$pid" >/dev/null 2>&1
/work/shared/bench/run "url:http://127.0.0.1:$port" fanout M=100 B=20 "pids=$pid" >/dev/null 2>&1
BENCH_ADMIN_KEY=k /work/shared/bench/run compare "$@" "pids=$pid" -- ${PEERS:-sails signalr} "url:http://127.0.0.1:$port" 2>/dev/null | grep -v '^{'
