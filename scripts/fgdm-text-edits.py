"""Map text edits on 10 generated maps, the figures in the README's FG-DM section (sessions 10-11).

The first 10 ToyWorld test scenes from seed 2000100 whose first caption names a house or a tree (not both); that word
is swapped for the other. Each map: `ldm4j fgdm sample --factors seg --seed 100+i`; then `ldm4j fgdm edit --op text`
with the extra arguments given. Printed: how often the target class appears or grows, how often the replaced class
shrinks (pixels counted at the maps' per-channel tolerance 63), and the mean fraction of pixels that keep their class.

Run from the repository root with a Python that has Pillow (Debian: apt-get install python3-pil, then /usr/bin/python3):
    python3 scripts/fgdm-text-edits.py runs/text-edits/reprompt
    python3 scripts/fgdm-text-edits.py runs/text-edits/semantic --semantic
    python3 scripts/fgdm-text-edits.py runs/text-edits/semantic10 --semantic 10
    python3 scripts/fgdm-text-edits.py runs/text-edits/semantic-q05 --semantic 5 --edit-threshold 0.5
    python3 scripts/fgdm-text-edits.py runs/text-edits/intersect --semantic --cross-attention-mask
    python3 scripts/fgdm-text-edits.py runs/text-edits/intersect-s10-q05 --semantic 10 --edit-threshold 0.5 --cross-attention-mask
"""
import json, os, re, subprocess, sys
from PIL import Image

LDM4J = ["./ldm4j"]
MODEL = "models/toyworld-fgdm"
COLOURS = {"house": (255, 0, 0), "tree": (0, 128, 0)}   # ToyClass palette
TOLERANCE = 63

out, extra = sys.argv[1], sys.argv[2:]
scenes_dir = os.path.join(out, "scenes")
if not os.path.exists(os.path.join(scenes_dir, "index.jsonl")):
    subprocess.run(LDM4J + ["toyworld", "sample", "--n", "40", "--seed", "2000100", "--out", scenes_dir], check=True, capture_output=True)
captions = []
for line in open(os.path.join(scenes_dir, "index.jsonl")):
    c = json.loads(line)["captions"][0]
    if bool(re.search(r"\bhouses?\b", c)) != bool(re.search(r"\btrees?\b", c)):
        captions.append(c)
    if len(captions) == 10:
        break


def swapped(c):
    if re.search(r"\bhouses?\b", c):
        return re.sub(r"\bhouse(s?)\b", r"tree\1", c), "house", "tree"
    return re.sub(r"\btree(s?)\b", r"house\1", c), "tree", "house"


def count(path, cls):
    c = COLOURS[cls]
    return sum(1 for p in Image.open(path).convert("RGB").getdata() if max(abs(p[k] - c[k]) for k in range(3)) <= TOLERANCE)


grown = shrunk = 0
kept = []
for i, caption in enumerate(captions):
    d = os.path.join(out, str(i))
    if not os.path.exists(os.path.join(d, "seg.png")):
        subprocess.run(LDM4J + ["fgdm", "sample", "--model", MODEL, "--prompt", caption, "--factors", "seg", "--seed", str(100 + i),
                                "--out", d], check=True, capture_output=True)
    target, source_class, target_class = swapped(caption)
    r = subprocess.run(LDM4J + ["fgdm", "edit", "--model", MODEL, "--op", "text", "--map", os.path.join(d, "seg.png"), "--prompt", caption,
                                "--to-prompt", target, "--out", os.path.join(d, "edit")] + extra, capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr[-800:])
    report = json.load(open(os.path.join(d, "edit", "edit.json")))
    before = {k: count(os.path.join(d, "seg.png"), k) for k in COLOURS}
    after = {k: count(os.path.join(d, "edit", "map.png"), k) for k in COLOURS}
    g, s = after[target_class] > before[target_class], after[source_class] < before[source_class]
    grown += g
    shrunk += s
    kept.append(report["unchangedFraction"])
    print(i, source_class, "->", target_class, before, after, "grown" if g else "-", "shrunk" if s else "-", round(report["unchangedFraction"], 3), flush=True)
print(f"target appears or grows {grown}/{len(captions)}, replaced class shrinks {shrunk}/{len(captions)}, "
      f"pixels keep their class {100 * sum(kept) / len(kept):.1f}%")
