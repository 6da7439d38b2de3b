#!/usr/bin/env bash
# Issue 23, "Show": the shared harness with proto=sails (sails.io.js 1.2.1 over socket.io-client 4.8.1) against the
# cluster shape (scripts/cluster: redis-server, 2 silos, 2 front ends, HAProxy; the harness talks to the two front
# ends directly, url:A,B), back to back with the sails-redis peer (two Sails 1.5.18 + redis) in the same
# `run compare`. One warm-up of each scenario against the cluster first (discarded), then ROUNDS rounds.
# Run from the repository root of the commit measured; writes the JSON lines next to this script.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
harness=${BENCH_HARNESS:-/work/shared/bench/run}
log=${BENCH_LOG:-/tmp/sails-cluster-bench}
mkdir -p "$log"
export BENCH_ADMIN_KEY=bench Rooms__AdminKey=bench DOTNET_CLI_TELEMETRY_OPTOUT=1
export ROOMS_CLUSTER_STATE=$log/cluster
down() { "$root/scripts/cluster" down >/dev/null 2>>"$log/cluster.err"; }
trap down EXIT
lines=$("$root/scripts/cluster" up --silos 2 --frontends 2 ${NO_BUILD:+--no-build} 2>>"$log/cluster.err") || { echo "cluster up failed: $log/cluster.err"; exit 1; }
echo "$lines" > "$log/cluster.txt"
fes=$(echo "$lines" | awk '$1=="frontend"{print $2}' | paste -sd,)
ps=$(echo "$lines" | awk '$1=="frontend"||$1=="silo"{print $NF}' | paste -sd,)
echo "front ends $fes; silo and front-end pids $ps" | tee "$here/run.txt"
for sc in crossnode joinleave; do "$harness" url:$fes $sc proto=sails pids=$ps >/dev/null 2>>"$log/harness.err"; done
for r in ${ROUNDS:-1 2}; do
  for sc in crossnode joinleave; do
    "$harness" compare $sc proto=sails pids=$ps -- sails-redis url:$fes 2>>"$log/harness.err" | grep '^{' > "$here/r$r-$sc.jsonl"
  done
done
