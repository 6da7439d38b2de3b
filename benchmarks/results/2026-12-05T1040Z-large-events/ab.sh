#!/usr/bin/env bash
# ab.sh DIR_A "ENV_A" DIR_B "ENV_B" ROUNDS SCENARIO-ARGS... : two warm servers, alternating runs, JSON lines to stdout (A then B each round)
set -euo pipefail
dirA=$1; envA=$2; dirB=$3; envB=$4; rounds=$5; shift 5
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(free); pb=$(free)
export Rooms__Limits__MaxConnectionsPerIp=25000 DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
(cd "$dirA" && exec env $envA DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pa" >/tmp/ab-a.log 2>&1) &
a=$!
(cd "$dirB" && exec env $envB DOTNET_TC_CallCountingDelayMs=0 Logging__LogLevel__Default=Warning Rooms__AdminKey=k ./Orleans.Rooms.WebFrontend --urls "http://127.0.0.1:$pb" >/tmp/ab-b.log 2>&1) &
b=$!
trap 'kill $a $b 2>/dev/null; wait $a $b 2>/dev/null || true' EXIT
for p in $pa $pb; do until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz" || true) == 200 ]]; do sleep 0.05; done; done
for p in $pa $pb; do
  /work/shared/bench/run "url:http://127.0.0.1:$p" joinleave C=20 D=5 >/dev/null 2>&1
  /work/shared/bench/run "url:http://127.0.0.1:$p" fanout M=100 B=20 >/dev/null 2>&1
done
for r in $(seq "$rounds"); do
  for t in "A $pa $a" "B $pb $b"; do
    set -- "$@"; read -r name port pid <<<"$t"
    line=$(BENCH_ADMIN_KEY=k /work/shared/bench/run "url:http://127.0.0.1:$port" "$@" "pids=$pid" 2>/dev/null | grep '^{' || true)
    echo "$name $line"
  done
done
