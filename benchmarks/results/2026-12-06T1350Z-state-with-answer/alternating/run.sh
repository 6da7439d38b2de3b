#!/usr/bin/env bash
# run.sh DIR: a fresh server published in DIR, this folder's driver twice on it (the first run warms it), the second's
# summary printed (TAILN=13: every block). Build the driver first: dotnet build -c Release (in this folder).
dir=$1
here=$(dirname "$(readlink -f "$0")")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dir" && exec env DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/jt-server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; done
dotnet "$here/bin/Release/net10.0/jt.dll" http://127.0.0.1:$port $pid 500 6 6 >/dev/null
dotnet "$here/bin/Release/net10.0/jt.dll" http://127.0.0.1:$port $pid 500 12 6 | tail -${TAILN:-1}
