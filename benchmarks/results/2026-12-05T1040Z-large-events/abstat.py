import json,sys,statistics as st
rows={}
for line in open(sys.argv[1]):
    name,_,js=line.partition(' ')
    if not js.strip(): continue
    d=json.loads(js); r=d['result']
    rows.setdefault(name,[]).append(r)
def get(r,k):
    for p in k.split('.'):
        r=r.get(p) if isinstance(r,dict) else None
        if r is None: return None
    return r[0] if isinstance(r,list) else r
keys=sys.argv[2:] or ['deliveries_per_s','server_cpu_us_per_delivery','delivery_latency_ms.p99']
for k in keys:
    vals={n:[get(r,k) for r in rs] for n,rs in rows.items()}
    med={n:st.median([v for v in vs if v is not None]) for n,vs in vals.items() if any(v is not None for v in vs)}
    print(k, {n:[round(v,2) if v else v for v in vs] for n,vs in vals.items()}, 'B/A median %.3f'%(med['B']/med['A']) if 'A' in med and 'B' in med else '')
