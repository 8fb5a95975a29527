// The studio's paint engine: a straight-alpha RGBA layer over a background colour, at the model's resolution
// (64x64 for ToyWorld), drawn pixel-exact so a zoomed view shows crisp pixels. Strokes, shapes and fills are
// rasterised into a coverage mask first and applied once with the chosen opacity, so a stroke crossing itself
// does not darken. No dependencies; the browser test drives it through window.studio.painting.
'use strict';

const Paint = (() => {
  const MAX_UNDO = 50;

  /** Sets mask pixels inside a disc of diameter `size` centred on pixel (cx, cy). */
  function stampDisc(mask, w, h, cx, cy, size) {
    const r = size / 2;
    const x0 = Math.max(0, Math.floor(cx + 0.5 - r)), x1 = Math.min(w - 1, Math.ceil(cx + 0.5 + r));
    const y0 = Math.max(0, Math.floor(cy + 0.5 - r)), y1 = Math.min(h - 1, Math.ceil(cy + 0.5 + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = x - cx, dy = y - cy;
        if (size <= 1 ? (dx === 0 && dy === 0) : dx * dx + dy * dy <= r * r) mask[y * w + x] = 1;
      }
    }
  }

  /** Stamps discs along the segment (Bresenham), so fast pointer moves leave no gaps. */
  function line(mask, w, h, xa, ya, xb, yb, size) {
    let x = xa, y = ya;
    const dx = Math.abs(xb - xa), dy = -Math.abs(yb - ya), sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      stampDisc(mask, w, h, x, y, size);
      if (x === xb && y === yb) return;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x += sx; }
      if (e2 <= dx) { err += dx; y += sy; }
    }
  }

  function rectangle(mask, w, h, xa, ya, xb, yb, size, filled) {
    const l = Math.min(xa, xb), r = Math.max(xa, xb), t = Math.min(ya, yb), b = Math.max(ya, yb);
    if (filled) {
      for (let y = Math.max(0, t); y <= Math.min(h - 1, b); y++) {
        for (let x = Math.max(0, l); x <= Math.min(w - 1, r); x++) mask[y * w + x] = 1;
      }
      return;
    }
    line(mask, w, h, l, t, r, t, size); line(mask, w, h, r, t, r, b, size);
    line(mask, w, h, r, b, l, b, size); line(mask, w, h, l, b, l, t, size);
  }

  /** The ellipse inscribed in the drag rectangle, outlined with the brush or filled. */
  function ellipse(mask, w, h, xa, ya, xb, yb, size, filled) {
    const cx = (xa + xb) / 2, cy = (ya + yb) / 2, rx = Math.abs(xb - xa) / 2, ry = Math.abs(yb - ya) / 2;
    if (filled) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const u = rx === 0 ? (x === cx ? 0 : 2) : (x - cx) / rx, v = ry === 0 ? (y === cy ? 0 : 2) : (y - cy) / ry;
          if (u * u + v * v <= 1.0001) mask[y * w + x] = 1;
        }
      }
      return;
    }
    const n = Math.max(16, Math.ceil(4 * Math.PI * Math.max(rx, ry)));
    let px = Math.round(cx + rx), py = Math.round(cy);
    for (let i = 1; i <= n; i++) {
      const a = 2 * Math.PI * i / n, x = Math.round(cx + rx * Math.cos(a)), y = Math.round(cy + ry * Math.sin(a));
      line(mask, w, h, px, py, x, y, size);
      px = x; py = y;
    }
  }

  /** The 4-connected region of pixels with exactly the RGBA of (x, y), as a mask; returns its size. */
  function floodRegion(layer, w, h, x, y, mask) {
    const at = (y * w + x) * 4, target = [layer[at], layer[at + 1], layer[at + 2], layer[at + 3]];
    const same = i => layer[i * 4] === target[0] && layer[i * 4 + 1] === target[1]
        && layer[i * 4 + 2] === target[2] && layer[i * 4 + 3] === target[3];
    const stack = [y * w + x];
    let count = 0;
    while (stack.length) {
      const i = stack.pop();
      if (mask[i] || !same(i)) continue;
      mask[i] = 1;
      count++;
      const px = i % w;
      if (px > 0) stack.push(i - 1);
      if (px < w - 1) stack.push(i + 1);
      if (i >= w) stack.push(i - w);
      if (i < w * (h - 1)) stack.push(i + w);
    }
    return count;
  }

  function parseHex(hex) {
    const v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  function toHex(rgb) {
    return '#' + rgb.map(c => c.toString(16).padStart(2, '0')).join('');
  }

  /**
   * Applies a coverage mask to a straight-alpha layer: paint is source-over with alpha `opacity`; the eraser
   * scales alpha by (1 - opacity).
   */
  function applyMask(layer, mask, rgb, opacity, erase) {
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      const o = i * 4, da = layer[o + 3] / 255;
      if (erase) { layer[o + 3] = Math.round(layer[o + 3] * (1 - opacity)); continue; }
      const a = opacity + da * (1 - opacity);
      for (let c = 0; c < 3; c++) layer[o + c] = Math.round((rgb[c] * opacity + layer[o + c] * da * (1 - opacity)) / a);
      layer[o + 3] = Math.round(a * 255);
    }
  }

  class Painting {
    constructor(width, height) {
      this.background = [255, 255, 255];
      this.undoStack = [];
      this.redoStack = [];
      this.listeners = [];
      this.reset(width, height);
    }

    reset(width, height) {
      this.width = width;
      this.height = height;
      this.layer = new Uint8ClampedArray(width * height * 4);
      this.mask = null;
      this.changed();
    }

    onChange(f) { this.listeners.push(f); }

    changed() { this.listeners.forEach(f => f(this)); }

    snapshot() { return { layer: this.layer.slice(), background: this.background.slice(), width: this.width, height: this.height }; }

    restore(s) {
      this.layer = s.layer; this.background = s.background; this.width = s.width; this.height = s.height;
      this.mask = null;
      this.changed();
    }

    /** Call before every change: it is what undo returns to. */
    checkpoint() {
      this.undoStack.push(this.snapshot());
      if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
      this.redoStack = [];
    }

    undo() { if (this.undoStack.length) { this.redoStack.push(this.snapshot()); this.restore(this.undoStack.pop()); } }

    redo() { if (this.redoStack.length) { this.undoStack.push(this.snapshot()); this.restore(this.redoStack.pop()); } }

    /**
     * Starts a stroke or shape. `tool` is brush | eraser | line | rect | ellipse; the mask is rebuilt on each
     * move for shapes and accumulated for brush and eraser.
     */
    begin(tool, x, y, options) {
      this.checkpoint();
      this.stroke = { tool, x0: x, y0: y, x, y, ...options };
      this.mask = new Uint8Array(this.width * this.height);
      this.move(x, y);
    }

    move(x, y) {
      const s = this.stroke;
      if (!s) return;
      const w = this.width, h = this.height;
      if (s.tool === 'brush' || s.tool === 'eraser') line(this.mask, w, h, s.x, s.y, x, y, s.size);
      else {
        this.mask.fill(0);
        if (s.tool === 'line') line(this.mask, w, h, s.x0, s.y0, x, y, s.size);
        if (s.tool === 'rect') rectangle(this.mask, w, h, s.x0, s.y0, x, y, s.size, s.filled);
        if (s.tool === 'ellipse') ellipse(this.mask, w, h, s.x0, s.y0, x, y, s.size, s.filled);
      }
      s.x = x; s.y = y;
      this.changed();
    }

    end() {
      const s = this.stroke;
      if (!s) return;
      applyMask(this.layer, this.mask, parseHex(s.colour), s.opacity, s.tool === 'eraser');
      this.stroke = null;
      this.mask = null;
      this.changed();
    }

    /** Bucket fill of the region of identical pixels around (x, y); returns the number of pixels filled. */
    fill(x, y, colour, opacity) {
      this.checkpoint();
      const mask = new Uint8Array(this.width * this.height);
      const n = floodRegion(this.layer, this.width, this.height, x, y, mask);
      applyMask(this.layer, mask, parseHex(colour), opacity, false);
      this.changed();
      return n;
    }

    clear() { this.checkpoint(); this.layer = new Uint8ClampedArray(this.width * this.height * 4); this.changed(); }

    setBackground(hex) { this.checkpoint(); this.background = parseHex(hex); this.changed(); }

    /** The layer over the background, with the stroke in progress, as opaque RGBA. */
    composite() {
      const out = new Uint8ClampedArray(this.layer);
      if (this.stroke) applyMask(out, this.mask, parseHex(this.stroke.colour), this.stroke.opacity, this.stroke.tool === 'eraser');
      const bg = this.background;
      for (let o = 0; o < out.length; o += 4) {
        const a = out[o + 3] / 255;
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(out[o + c] * a + bg[c] * (1 - a));
        out[o + 3] = 255;
      }
      return new ImageData(out, this.width, this.height);
    }

    /** The most used opaque-ish colours of the layer (most frequent first), as hex. */
    palette(max) {
      const counts = new Map();
      for (let o = 0; o < this.layer.length; o += 4) {
        if (this.layer[o + 3] < 128) continue;
        const key = (this.layer[o] << 16) | (this.layer[o + 1] << 8) | this.layer[o + 2];
        counts.set(key, (counts.get(key) || 0) + 1);
      }
      return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, max)
          .map(([k]) => toHex([(k >> 16) & 255, (k >> 8) & 255, k & 255]));
    }

    /** Replaces the picture by `source` (an image or canvas) scaled to width x height; undoable. */
    load(source, width, height) {
      this.checkpoint();
      const c = document.createElement('canvas');
      c.width = width; c.height = height;
      const g = c.getContext('2d');
      g.imageSmoothingEnabled = source.width > width || source.height > height;   // smooth down, crisp up
      g.imageSmoothingQuality = 'high';
      g.drawImage(source, 0, 0, width, height);
      this.width = width; this.height = height;
      this.layer = new Uint8ClampedArray(g.getImageData(0, 0, width, height).data);
      this.changed();
    }

    /** Nearest-neighbour resize of the layer (the model's size changed); undoable. */
    resize(width, height) {
      if (width === this.width && height === this.height) return;
      this.checkpoint();
      const out = new Uint8ClampedArray(width * height * 4);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const sx = Math.floor(x * this.width / width), sy = Math.floor(y * this.height / height);
          out.set(this.layer.subarray((sy * this.width + sx) * 4, (sy * this.width + sx) * 4 + 4), (y * width + x) * 4);
        }
      }
      this.width = width; this.height = height; this.layer = out;
      this.changed();
    }

    /** The picture as the PNG data URL img2img sends. */
    toDataUrl() {
      const c = document.createElement('canvas');
      c.width = this.width; c.height = this.height;
      c.getContext('2d').putImageData(this.composite(), 0, 0);
      return c.toDataURL('image/png');
    }
  }

  return { Painting, stampDisc, line, rectangle, ellipse, floodRegion, applyMask, parseHex, toHex };
})();
