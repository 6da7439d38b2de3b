#!/usr/bin/env bash
# Issue 17's before/after: the embedded front end of e340119 (before the re-cut) and of b272d2e (after), both
# published ReadyToRun, side by side; then the cluster shape of each, one at a time, alternating per round.
set -uo pipefail
out=/work/bench-out
harness=/work/shared/bench/run
export BENCH_ADMIN_KEY=bench Rooms__AdminKey=bench Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_CLI_TELEMETRY_OPTOUT=1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
start() { # name port siloport gatewayport
  /work/bench-bin/$1/Orleans.Rooms.WebFrontend --urls http://127.0.0.1:$2 --Orleans:SiloPort=$3 --Orleans:GatewayPort=$4 > $out/$1-server.log 2>&1 &
  pids+=($!); echo $!
}
ready() { for i in $(seq 1 240); do curl -sf -o /dev/null http://127.0.0.1:$1/readyz && return 0; sleep 0.5; done; echo "not ready $1"; exit 1; }
if [[ ${1:-all} != cluster ]]; then
B=$(start before 5101 21111 31001); A=$(start after 5102 21112 31002)
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
cleanup; pids=()
fi
if [[ ${1:-all} != embedded ]]; then
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
