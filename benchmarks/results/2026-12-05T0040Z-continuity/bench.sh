#!/usr/bin/env bash
# Issue 19's before/after: the embedded front end of a9831c9 (before front-end continuity) and of 995f5b2 (after), both
# published ReadyToRun, side by side; then the cluster shape of each, one at a time, alternating per round.
set -uo pipefail
mode=${1:-all} # the loops below use `set --`, which replaces $1
out=${BENCH_OUT:-/work/bench-out}
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
if [[ $mode != cluster ]]; then
start before 5101 21111 31001; B=$started; start after 5102 21112 31002; A=$started
ready 5101; ready 5102
echo "embedded: before pid $B, after pid $A" | tee -a $out/summary.txt
# warm-up (discarded): servers reach steady speed after tens of seconds of load
for t in "5101 $B" "5102 $A"; do set -- $t; $harness url:http://127.0.0.1:$1 joinleave D=15 pids=$2 > /dev/null 2>>$out/harness.err; $harness url:http://127.0.0.1:$1 fanout B=100 pids=$2 >/dev/null 2>>$out/harness.err; done
rounds=${ROUNDS:-1 2 3}; scenarios=${SCENARIOS:-joinleave fanout}
for r in $rounds; do
  order=("5101 $B before" "5102 $A after"); [[ $((r % 2)) -eq 0 ]] && order=("5102 $A after" "5101 $B before")
  for sc in $scenarios; do
    for t in "${order[@]}"; do set -- $t; $harness url:http://127.0.0.1:$1 $sc pids=$2 > $out/emb-r$r-$sc-$3.json 2>>$out/harness.err; done
  done
done
cleanup; pids=()
fi
if [[ $mode != embedded ]]; then
for r in 1 2 3; do
  order=(before after); [[ $((r % 2)) -eq 0 ]] && order=(after before)
  for w in "${order[@]}"; do
    export ROOMS_CLUSTER_STATE=$out/cluster-$w
    lines=$(/work/wt-$w/scripts/cluster up --no-build 2>>$out/cluster-$w.err) || { echo "up failed $w"; continue; }
    fes=$(echo "$lines" | awk '$1=="frontend"{print $2}' | paste -sd,)
    ps=$(echo "$lines" | awk '$1=="frontend"||$1=="silo"{print $NF}' | paste -sd,)
    for i in 1 2 3; do $harness url:$fes joinleave pids=$ps > /dev/null 2>>$out/harness.err; done
    $harness url:$fes joinleave pids=$ps > $out/clu-r$r-joinleave-$w.json 2>>$out/harness.err
    /work/wt-$w/scripts/cluster down >/dev/null 2>>$out/cluster-$w.err
  done
done
fi
echo finished | tee -a $out/summary.txt
