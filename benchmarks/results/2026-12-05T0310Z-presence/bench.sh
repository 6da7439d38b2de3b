#!/usr/bin/env bash
# Issue 20's cost check: the embedded front end before this session's work (a8f48a7) and after it (presence,
# identity over sockets, Sails' wire, tracing), both published ReadyToRun, side by side on rooms nobody tracks in
# (joinleave, fanout), warm, alternating per round; then the presence burst of Rooms.Curves on the after build.
set -uo pipefail
out=${BENCH_OUT:-/work/bench-out/pres}
harness=/work/shared/bench/run
export BENCH_ADMIN_KEY=bench Rooms__AdminKey=bench Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_CLI_TELEMETRY_OPTOUT=1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
start() { # name port siloport gatewayport; run in this shell (not $(...)), so that cleanup knows its pid
  /work/bench-bin/$1/Orleans.Rooms.WebFrontend --urls http://127.0.0.1:$2 --Orleans:SiloPort=$3 --Orleans:GatewayPort=$4 --Logging:LogLevel:Default=Warning > $out/$1-server.log 2>&1 &
  pids+=($!); started=$!
}
ready() { for i in $(seq 1 240); do curl -sf -o /dev/null http://127.0.0.1:$1/readyz && return 0; sleep 0.5; done; echo "not ready $1"; exit 1; }
start before 5101 21111 31001; B=$started; start after 5102 21112 31002; A=$started
ready 5101; ready 5102
echo "embedded: before pid $B, after pid $A" | tee -a $out/summary.txt
# warm-up (discarded): servers reach steady speed after tens of seconds of load
for t in "5101 $B" "5102 $A"; do set -- $t; $harness url:http://127.0.0.1:$1 joinleave D=15 pids=$2 > /dev/null 2>>$out/harness.err; $harness url:http://127.0.0.1:$1 fanout B=100 pids=$2 >/dev/null 2>>$out/harness.err; done
for r in 1 2 3; do
  order=("5101 $B before" "5102 $A after"); [[ $((r % 2)) -eq 0 ]] && order=("5102 $A after" "5101 $B before")
  for sc in joinleave fanout; do
    for t in "${order[@]}"; do set -- $t; $harness url:http://127.0.0.1:$1 $sc pids=$2 > $out/emb-r$r-$sc-$3.json 2>>$out/harness.err; done
  done
done
kill $B; dotnet /work/main/benchmarks/Rooms.Curves/bin/Release/net10.0/Orleans.Rooms.Curves.dll --url http://127.0.0.1:5102 --pid $A --out $out/presence-1000.json --presence 1000 2>&1 | grep "presence " | tee -a $out/summary.txt
echo finished | tee -a $out/summary.txt
