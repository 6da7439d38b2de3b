#!/usr/bin/env bash
# pres2.sh DIR OUT N: Rooms.Curves --presence 1000 N times against one fresh server (the later runs on a warm server)
set -uo pipefail
dir=$1; out=$2; n=${3:-2}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dir" && exec env DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/pres-server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; done
for i in $(seq $n); do
  echo "-- run $i"
  dotnet /work/main/benchmarks/Rooms.Curves/bin/Release/net10.0/Orleans.Rooms.Curves.dll --url http://127.0.0.1:$port --pid $pid --out $out-$i.json --presence 1000 2>&1 | grep "presence "
done
