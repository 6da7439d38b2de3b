#!/usr/bin/env bash
# ab.sh DIR_A DIR_B ROUNDS [SCENARIO ARGS...]; env EA/EB extra env for A/B. Prints per-run ops/s and CPU us/op, then medians.
set -uo pipefail
BENCH=${BENCH:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)/../shared/bench/run}; TMPD=${TMPD:-/tmp/vr-bench}; mkdir -p "$TMPD"
da=$1; db=$2; rounds=$3; shift 3
scen=${*:-joinleave D=5}
export DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(fp); pb=$(fp)
(cd "$da" && exec env ${EA:-} Logging__LogLevel__Default=Warning Rooms__AdminKey=k Rooms__Limits__MaxConnectionsPerIp=25000 ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pa" >$TMPD/a.log 2>&1) &
ia=$!
(cd "$db" && exec env ${EB:-} Logging__LogLevel__Default=Warning Rooms__AdminKey=k Rooms__Limits__MaxConnectionsPerIp=25000 ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pb" >$TMPD/b.log 2>&1) &
ib=$!
trap 'kill $ia $ib 2>/dev/null; wait $ia $ib 2>/dev/null' EXIT
for p in $pa $pb; do until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz" || true) == 200 ]]; do sleep 0.05; done; done
one() { # port pid label
  local before after
  before=$(curl -s http://127.0.0.1:$1/metrics | awk '/^dotnet_gc_heap_total_allocated_bytes_total/{print $2}')
  $BENCH url:http://127.0.0.1:$1 $scen pids=$2 2>/dev/null > $TMPD/one.json
  after=$(curl -s http://127.0.0.1:$1/metrics | awk '/^dotnet_gc_heap_total_allocated_bytes_total/{print $2}')
  python3 - "$3" "$before" "$after" "$2" "$TMPD/one.json" <<'PY'
import json,sys
d=json.load(open(sys.argv[5]))['result']
ops=d.get('ops') or d.get('deliveries') or d.get('memberships') or 1
rss=[l for l in open(f'/proc/{sys.argv[4]}/status') if l.startswith('VmRSS')][0].split()[1]
print(sys.argv[1], d.get('ops_per_s') or d.get('deliveries_per_s'), d.get('server_cpu_us_per_op') or d.get('server_cpu_us_per_delivery'), (round((float(sys.argv[3])-float(sys.argv[2]))/ops) if sys.argv[2] and sys.argv[3] else '-'), rss, flush=True)
PY
}
for w in 1 2; do one $pa $ia warmA >/dev/null; one $pb $ib warmB >/dev/null; done
for r in $(seq $rounds); do
  if (( r % 2 )); then one $pa $ia A; one $pb $ib B; else one $pb $ib B; one $pa $ia A; fi
done
