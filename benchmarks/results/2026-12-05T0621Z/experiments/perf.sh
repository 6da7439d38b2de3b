#!/usr/bin/env bash
# perf.sh PUBLISH_DIR OUT SCENARIO-ARGS...: warm server, harness load, 8 s perf samples
set -euo pipefail
dir=$1; out=$2; shift 2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dir" && exec env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/perf-server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; kill -0 $pid; done
/work/shared/bench/run "url:http://127.0.0.1:$port" joinleave C=20 D=8 "pids=$pid" >/dev/null 2>&1
(BENCH_ADMIN_KEY=k /work/shared/bench/run "url:http://127.0.0.1:$port" "$@" "pids=$pid" 2>/dev/null | grep '^{' > "$out.json") &
load=$!
sleep 4
perf record -F 999 -g -p $pid -o "$out.data" -- sleep 8 >/dev/null 2>&1 || true
wait $load
perf report -i "$out.data" --stdio --no-children --sort symbol 2>/dev/null | grep -v "^$" | grep "%" | head -120 > "$out.flat.txt"
perf report -i "$out.data" --stdio --children --sort symbol 2>/dev/null | grep -v "^$" | grep -E "^ +[0-9]" | head -200 > "$out.incl.txt"
