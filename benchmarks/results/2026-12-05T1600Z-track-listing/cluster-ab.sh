#!/usr/bin/env bash
# cluster-ab.sh A_REPO B_REPO OUT ROUNDS: in each round, for each repository (a checkout of this project), its
# scripts/cluster up (2 silos, 2 front ends, as plain processes), then Rooms.Curves --presence 1000 twice against
# its first front end, the CPU summed over the 4 server processes (--pid a,b,c,d), then down.
# Results: OUT/<a|b>-r<round>-<run>.json.
set -uo pipefail
a=$1; b=$2; out=$3; rounds=${4:-2}
curves=$(readlink -f "$a")/benchmarks/Rooms.Curves/bin/Release/net10.0/Orleans.Rooms.Curves.dll
mkdir -p "$out"
(cd "$a" && scripts/cluster build >/dev/null 2>&1); (cd "$b" && scripts/cluster build >/dev/null 2>&1)
for r in $(seq "$rounds"); do
  for side in a b; do
    [[ $side == a ]] && repo=$a || repo=$b
    up=$(cd "$repo" && Rooms__Limits__MaxConnectionsPerIp=25000 Rooms__AdminKey=k scripts/cluster up --no-build 2>&1)
    fe=$(echo "$up" | awk '$1=="frontend"{print $2; exit}')
    pids=$(echo "$up" | awk '$1=="silo"||$1=="frontend"{print $NF}' | paste -sd,)
    for i in 1 2; do
      dotnet "$curves" --url "$fe" --pid "$pids" --out "$out/$side-r$r-$i.json" --presence 1000 2>&1 | grep "presence "
    done
    (cd "$repo" && scripts/cluster down >/dev/null 2>&1)
  done
done
