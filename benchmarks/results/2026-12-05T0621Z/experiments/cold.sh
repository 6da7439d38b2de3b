#!/usr/bin/env bash
# cold.sh PUBLISH_DIR [extra env...]: one fresh server; joinleave D=10 from /readyz (cold), then twice more (warm).
set -euo pipefail
dir=$1; shift
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
t0=$(date +%s%3N)
(cd "$dir" && exec env "$@" Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/cold-server.log 2>&1) &
pid=$!
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; kill -0 $pid; done
t1=$(date +%s%3N)
echo "readyz after $((t1-t0)) ms"
for what in cold warm1 warm2; do
  line=$(/work/shared/bench/run "url:http://127.0.0.1:$port" joinleave D=10 "pids=$pid" 2>/dev/null | grep '^{')
  echo "$what $(echo "$line" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); r=d["result"]; print(int(r["ops_per_s"]), "ops/s", round(r.get("server_cpu_us_per_op",0),1), "us/op", "ok" if d["ok"] else "NOT OK")')"
done
kill $pid; wait $pid 2>/dev/null || true
grep -i "warmed up\|warm-up" /tmp/cold-server.log | head -3
