#!/usr/bin/env bash
# idle.sh DIR "ENV" : a fresh server with ENV, 5,000 idle sockets (the harness' memberships S=5000 R=1), KB of RSS per socket on connect
set -uo pipefail
dir=$1; envs=$2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dir" && exec env $envs DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >/tmp/idle-server.log 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; done
/work/shared/bench/run "url:http://127.0.0.1:$port" memberships S=5000 R=1 "pids=$pid" 2>/dev/null | grep '^{' | python3 -c "
import json,sys
d=json.loads(sys.stdin.read()); r=d['result']
print('$envs' or 'default', 'idle', r['rss_kb']['idle'][0], 'connect KB/socket %.1f' % (r['rss_delta_kb']['connect'][0]/5000), 'join KB/socket %.1f' % (r['rss_delta_kb']['join'][0]/5000), 'memberships/s', r.get('memberships_per_s'))"
