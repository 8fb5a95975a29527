#!/usr/bin/env python3
# Every per-sample mix of runs of `ldm4j eval blended --json` that differ only in --mask-attention (one value each):
# sample k of an edit has the same noise in every run, so sample k can be taken from any run. Prints, per mix, the
# best-of-N recall per edit kind (unranked mean in brackets) from the per-edit sample_recalls (before the repair).
#   scripts/blended-mixes.py runs/ma2.json:2 runs/ma0.json:0   (docs/results-blended.md, session 25)
import itertools
import json
import sys

runs = {}
for arg in sys.argv[1:]:
    path, w = arg.rsplit(':', 1)
    d = json.load(open(path))
    e = {}
    for x in d['edits']:
        if x.get('preset') != 'recommended-no-repair' or 'sample_recalls' not in x: continue
        e[(x['kind'], x['scene_seed'])] = x
    runs[w] = e
ws = list(runs)
keys = sorted(set.intersection(*[set(r) for r in runs.values()]))
kinds = sorted(set(k for k, _ in keys))
# consistency: recall_inside vs max of sample recalls
for w in ws:
    diff = sum(1 for k in keys if abs(max(runs[w][k]['sample_recalls']) - runs[w][k]['recall_inside']) > 1e-9)
    print(f"run w'{w}: {diff} of {len(keys)} edits whose recall_inside != max(sample_recalls) (recall read on another image than the ranking's)")
n = len(runs[ws[0]][keys[0]]['sample_recalls'])
print("mix (w' per sample) " + " ".join(f"{k:>16}" for k in kinds) + "   both")
for mix in itertools.product(ws, repeat=n):
    out = []
    for kind in kinds:
        ks = [k for k in keys if k[0] == kind]
        ranked = sum(max(runs[mix[i]][k]['sample_recalls'][i] for i in range(n)) for k in ks) / len(ks)
        unranked = sum(sum(runs[mix[i]][k]['sample_recalls'][i] for i in range(n)) / n for k in ks) / len(ks)
        out.append((ranked, unranked, len(ks)))
    both = sum(o[0] * o[2] for o in out) / sum(o[2] for o in out)
    print(f"{','.join(mix):20s} " + " ".join(f"{r:.3f} ({u:.3f})  " for r, u, _ in out) + f" {both:.3f}")
