#!/usr/bin/env bash
# idle.sh OUT: the harness's idle scenario (memberships S=5000 R=1) against a fresh server of ours, once over SignalR
# and once over Sails' wire (proto=sails), each on its own fresh server; then the Sails peer.
set -uo pipefail
out=$1; mkdir -p "$out"
export DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
run_ours() { # proto
  local port pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd /work/bench-bin/idle && exec env DOTNET_TC_CallCountingDelayMs=0 Rooms__AdminKey=k Rooms__Limits__MaxConnectionsPerIp=25000 Logging__LogLevel__Default=Warning ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$port" >"$out/server-$1.log" 2>&1) &
  pid=$!
  until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true) == 200 ]]; do sleep 0.05; done
  BENCH_ADMIN_KEY=k /work/shared/bench/run "url:http://127.0.0.1:$port" memberships S=5000 R=1 proto=$1 pids=$pid 2>>"$out/harness.log" | grep '^{' >"$out/ours-$1.jsonl"
  kill $pid; wait $pid 2>/dev/null
}
run_ours signalr
run_ours sails
/work/shared/bench/run sails memberships S=5000 R=1 2>>"$out/harness.log" | grep '^{' >"$out/sails.jsonl"
