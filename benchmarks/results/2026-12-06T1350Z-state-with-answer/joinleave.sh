#!/usr/bin/env bash
# joinleave.sh DIR: a fresh server published in DIR, the shared harness (../shared/bench/run from the project root) joinleave twice on it (the first warms), the second's ops/s and server CPU per op
dir=$1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dir" && exec env Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/jl-server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; done
"$(dirname "$(readlink -f "$0")")/../../../../shared/bench/run" url:http://127.0.0.1:$port joinleave pids=$pid >/dev/null 2>&1   # warm
"$(dirname "$(readlink -f "$0")")/../../../../shared/bench/run" url:http://127.0.0.1:$port joinleave pids=$pid 2>&1 | grep -o '"ops_per_s":[0-9.]*\|"server_cpu[a-z_]*":[0-9.]*' | tr '\n' ' '; echo
