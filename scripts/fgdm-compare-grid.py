#!/usr/bin/env python3
"""Side-by-side grid of two `eval fgdm fidelity --dump` folders (same captions and seeds): for each sample,
map | image | segmented image of the first folder, then the same of the second. Usage: A B OUT [rows] [zoom]"""
import sys
from PIL import Image
a, b, out = sys.argv[1:4]
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 8
zoom = int(sys.argv[5]) if len(sys.argv) > 5 else 3
side = 64 * zoom
gap, group_gap = 4, 16
width = 6 * side + 4 * gap + group_gap
grid = Image.new('RGB', (width, rows * side + (rows - 1) * gap), 'white')
for r in range(rows):
    x = 0
    for g, folder in enumerate((a, b)):
        for kind in ('map', 'image', 'segmented'):
            im = Image.open('%s/%03d-%s.png' % (folder, r, kind)).convert('RGB').resize((side, side), Image.NEAREST)
            grid.paste(im, (x, r * (side + gap)))
            x += side + gap
        x += group_gap - gap
grid.save(out)
