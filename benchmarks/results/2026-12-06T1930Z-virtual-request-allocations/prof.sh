#!/usr/bin/env bash
set -uo pipefail
BENCH=${BENCH:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)/../shared/bench/run}; TMPD=${TMPD:-/tmp/vr-bench}; mkdir -p "$TMPD"
dir=$1; out=$2; C=${3:-50}
export DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$dir" && exec env Logging__LogLevel__Default=Warning Rooms__AdminKey=k Rooms__Limits__MaxConnectionsPerIp=25000 ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >$TMPD/server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; done
for i in 1 2; do $BENCH url:http://127.0.0.1:$port joinleave C=$C D=5 pids=$pid 2>/dev/null >/dev/null; done
$BENCH url:http://127.0.0.1:$port joinleave C=$C D=16 pids=$pid 2>/dev/null > $TMPD/prof-run.json &
bp=$!
sleep 4
~/.dotnet/tools/dotnet-trace collect --duration 00:00:00:10 -p $pid --providers Microsoft-Windows-DotNETRuntime:0x1:5 -o "$out" >/dev/null 2>&1
wait $bp
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"]["ops_per_s"], d["result"]["server_cpu_us_per_op"])' "$TMPD/prof-run.json"
