#!/usr/bin/env python3
"""pool.py AB_LOG [LABEL_A LABEL_B]: from embedded-ab.sh's log (A, B alternating, two Rooms.Curves runs each, the
second on a warm server kept), each build's own-room rounds pooled: CPU per join of a new room, per track in a new
room, per track in a joined room, and the ratios of the sums; run medians too."""
import re, sys, statistics
log = open(sys.argv[1]).read().split('\n')
labels = sys.argv[2:4] or ['a', 'b']
runs, cur = [], None
for line in log:
    if line.startswith('-- run'):
        cur = {'n': int(line.split()[2]), 'rounds': []}
        runs.append(cur)
    m = re.search(r'round \d+: join (\d+) µs CPU; track in a new room (\d+) µs .*in a room joined (\d+) µs', line)
    if m and cur is not None:
        cur['rounds'].append(tuple(int(x) for x in m.groups()))
# pres2 makes runs 1, 2 per server; servers alternate a, b
servers = []
for r in runs:
    if r['n'] == 1:
        servers.append([])
    servers[-1].append(r)
for i, label in enumerate(labels):
    warm = [s[-1]['rounds'] for s in servers[i::2] if len(s) >= 2 and s[-1]['rounds']]
    rounds = [r for w in warm for r in w]
    if not rounds:
        continue
    j = sum(r[0] for r in rounds); t = sum(r[1] for r in rounds); tj = sum(r[2] for r in rounds)
    meds = [round(statistics.median(r[1] / r[0] for r in w), 2) for w in warm]
    print(f"{label}: {len(warm)} warm runs, {len(rounds)} rounds; join {j/len(rounds):.0f} µs, track in a new room {t/len(rounds):.0f} µs, in a joined room {tj/len(rounds):.0f} µs; "
          f"pooled track/join {t/j:.2f}×, joined {tj/j:.2f}×; run medians {meds}; median of round ratios {statistics.median(r[1]/r[0] for r in rounds):.2f}×")
