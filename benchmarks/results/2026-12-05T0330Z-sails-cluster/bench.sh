#!/usr/bin/env bash
# Issue 23, "Show": the shared harness with proto=sails (sails.io.js 1.2.1 over socket.io-client 4.8.1).
#   bench.sh cluster    the cluster shape (scripts/cluster: redis-server, 2 silos, 2 front ends, HAProxy; the harness
#                       talks to the two front ends directly, url:A,B) back to back with the sails-redis peer (two
#                       Sails 1.5.18 + redis) in the same `run compare`, crossnode and joinleave. One warm-up of each
#                       scenario against the cluster first (discarded), then ROUNDS rounds (default 1 2).
#   bench.sh recovery   the cost of connection-state recovery: one embedded front end of the same build with
#                       Rooms:SocketIo:ConnectionStateRecovery true and one with false, side by side, fanout and
#                       joinleave, alternating the order per round (ROUNDS), after a discarded warm-up of each.
# Run from the repository at the commit measured; writes the JSON lines into OUT (default: a folder named after the
# commit, next to this script). The Release publish is scripts/cluster's (cluster builds it; recovery reuses it).
set -uo pipefail
mode=${1:?usage: bench.sh cluster|recovery}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$here/$(git -C "$root" rev-parse --short HEAD)}
harness=${BENCH_HARNESS:-/work/shared/bench/run}
log=${BENCH_LOG:-/tmp/sails-cluster-bench}
mkdir -p "$log" "$out"
export BENCH_ADMIN_KEY=bench Rooms__AdminKey=bench DOTNET_CLI_TELEMETRY_OPTOUT=1
export ROOMS_CLUSTER_STATE=$log/cluster
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; [[ $mode == cluster ]] && "$root/scripts/cluster" down >/dev/null 2>>"$log/cluster.err"; }
trap cleanup EXIT
if [[ $mode == cluster ]]; then
  lines=$("$root/scripts/cluster" up --silos 2 --frontends 2 ${NO_BUILD:+--no-build} 2>>"$log/cluster.err") || { echo "cluster up failed: $log/cluster.err"; exit 1; }
  fes=$(echo "$lines" | awk '$1=="frontend"{print $2}' | paste -sd,)
  ps=$(echo "$lines" | awk '$1=="frontend"||$1=="silo"{print $NF}' | paste -sd,)
  echo "cluster: front ends $fes; silo and front-end pids $ps" | tee "$out/run.txt"
  for sc in crossnode joinleave; do "$harness" url:$fes $sc proto=sails pids=$ps >/dev/null 2>>"$log/harness.err"; done
  for r in ${ROUNDS:-1 2}; do
    for sc in crossnode joinleave; do
      "$harness" compare $sc proto=sails pids=$ps -- sails-redis url:$fes 2>>"$log/harness.err" | grep '^{' > "$out/r$r-$sc.jsonl"
    done
  done
elif [[ $mode == recovery ]]; then
  exe=$root/WebFrontend/bin/Release/publish/Orleans.Rooms.WebFrontend
  [[ -x $exe ]] || { echo "no publish at $exe: run bench.sh cluster (or scripts/cluster build) first"; exit 1; }
  start() { # name port siloport gatewayport recovery
    "$exe" --urls http://127.0.0.1:$2 --Orleans:SiloPort=$3 --Orleans:GatewayPort=$4 --Rooms:SocketIo:ConnectionStateRecovery=$5 \
      --Rooms:Limits:MaxConnectionsPerIp=25000 --Logging:LogLevel:Default=Warning > "$log/$1-server.log" 2>&1 &
    pids+=($!); started=$!
  }
  ready() { for _ in $(seq 1 240); do curl -sf -o /dev/null http://127.0.0.1:$1/readyz && return 0; sleep 0.5; done; echo "not ready $1"; exit 1; }
  start on 5131 21131 31131 true; on=$started
  start off 5132 21132 31132 false; off=$started
  ready 5131; ready 5132
  echo "recovery: on pid $on (:5131), off pid $off (:5132)" | tee "$out/recovery-run.txt"
  for t in "5131 $on" "5132 $off"; do set -- $t; for sc in joinleave fanout; do "$harness" url:http://127.0.0.1:$1 $sc proto=sails pids=$2 >/dev/null 2>>"$log/harness.err"; done; done
  for r in ${ROUNDS:-1 2}; do
    order=("5131 $on on" "5132 $off off"); [[ $((r % 2)) -eq 0 ]] && order=("5132 $off off" "5131 $on on")
    for sc in fanout joinleave; do
      for t in "${order[@]}"; do set -- $t; "$harness" url:http://127.0.0.1:$1 $sc proto=sails pids=$2 > "$out/recovery-r$r-$sc-$3.json" 2>>"$log/harness.err"; done
    done
  done
fi
