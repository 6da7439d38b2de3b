#!/usr/bin/env bash
# run.sh A_DIR B_DIR [BLOCKS]: two fresh servers published in A_DIR and B_DIR, this folder's driver on both at once
# twice (the first run warms them), the second's lines printed. Build the driver first: dotnet build -c Release (here).
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(free_port); pb=$(free_port)
(cd "$1" && exec env DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pa" >/tmp/paired-a.log 2>&1) &
ida=$!
(cd "$2" && exec env DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pb" >/tmp/paired-b.log 2>&1) &
idb=$!
trap 'kill $ida $idb 2>/dev/null; wait $ida $idb 2>/dev/null || true' EXIT
for p in $pa $pb; do
  until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz" || true) == 200 ]]; do sleep 0.05; done
done
dotnet "$here/bin/Release/net10.0/paired.dll" "http://127.0.0.1:$pa" $ida "http://127.0.0.1:$pb" $idb 500 4 6 >/dev/null
dotnet "$here/bin/Release/net10.0/paired.dll" "http://127.0.0.1:$pa" $ida "http://127.0.0.1:$pb" $idb 500 "${3:-12}" 6 | tail -${TAILN:-2}
