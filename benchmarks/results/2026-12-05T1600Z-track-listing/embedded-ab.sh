#!/usr/bin/env bash
# embedded-ab.sh A_DIR B_DIR OUT ROUNDS: ../2026-12-05T1330Z-presence-cost/pres2.sh (a fresh server, Rooms.Curves --presence 1000 twice, the second
# run on a warm server kept) on two published front ends (dotnet publish ... -p:PublishReadyToRun=true -o DIR),
# alternating A, B each round. Results: OUT/<a|b>-r<round>-<run>.json.
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
a=$1; b=$2; out=$3; rounds=${4:-3}
mkdir -p "$out"
for r in $(seq "$rounds"); do
  "$here/../2026-12-05T1330Z-presence-cost/pres2.sh" "$a" "$out/a-r$r" 2
  "$here/../2026-12-05T1330Z-presence-cost/pres2.sh" "$b" "$out/b-r$r" 2
done
