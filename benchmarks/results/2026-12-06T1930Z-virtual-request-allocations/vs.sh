#!/usr/bin/env bash
# vs.sh DIR_A DIR_B ROUNDS: two warm servers of ours (A, B) and the harness' signalr peer (fresh per run, as benchmarks/run), joinleave D=10,
# each round in the order signalr, A, B (B, A on even rounds). Prints: label ops/s cpu_us/op
set -uo pipefail
BENCH=${BENCH:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)/../shared/bench/run}; TMPD=${TMPD:-/tmp/vr-bench}; mkdir -p "$TMPD"
da=$1; db=$2; rounds=$3
export DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(fp); pb=$(fp)
(cd "$da" && exec env Logging__LogLevel__Default=Warning Rooms__AdminKey=k Rooms__Limits__MaxConnectionsPerIp=25000 ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pa" >$TMPD/a.log 2>&1) &
ia=$!
(cd "$db" && exec env Logging__LogLevel__Default=Warning Rooms__AdminKey=k Rooms__Limits__MaxConnectionsPerIp=25000 ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pb" >$TMPD/b.log 2>&1) &
ib=$!
trap 'kill $ia $ib 2>/dev/null; wait $ia $ib 2>/dev/null' EXIT
for p in $pa $pb; do until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz" || true) == 200 ]]; do sleep 0.05; done; done
pr() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read())["result"]; print(sys.argv[1], d["ops_per_s"], d["server_cpu_us_per_op"], flush=True)' "$1"; }
for w in 1 2; do for p in "$pa $ia" "$pb $ib"; do set -- $p; $BENCH url:http://127.0.0.1:$1 joinleave D=5 pids=$2 >/dev/null 2>&1; done; done
for r in $(seq $rounds); do
  $BENCH signalr joinleave 2>/dev/null | pr S
  if (( r % 2 )); then order="A B"; else order="B A"; fi
  for x in $order; do
    if [[ $x == A ]]; then $BENCH url:http://127.0.0.1:$pa joinleave pids=$ia 2>/dev/null | pr A; else $BENCH url:http://127.0.0.1:$pb joinleave pids=$ib 2>/dev/null | pr B; fi
  done
done
