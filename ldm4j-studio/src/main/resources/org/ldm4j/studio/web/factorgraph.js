// The Factor graph tab (FG-DM): the image with its condition maps as toggleable layers, the SBPC candidates and their
// recall, and the map editor (select an object by clicking the segmentation map, move by dragging or dx/dy, resize,
// flip, delete, add an object of a class, Regenerate; or Edit by text: the caption changed, the map inverted and
// redrawn). Edits go through POST /api/fgdm/edit (the library's MapEdits on the server); regenerating is a `mapedit`
// job, a text edit a `maptext` job. Loaded after modes.js; uses studio.js's $, api, blobUrl, say,
// number and runJob when called.
'use strict';

const FactorGraph = (() => {
  const VIEW = 320;                 // the view's side in canvas pixels
  const state = {
    info: null,                     // GET /api/models' factorGraph: factors, segmentation, image, classes
    image: null,                    // the last result, an Image
    layers: [],                     // [{name, kind, img, on}] image first, then the maps
    map: null, generated: null,     // the segmentation map being edited / as generated, PNG data URLs
    mapSize: [0, 0],
    region: null, regionMask: null, // the selected object (server's description) and its pixels (Uint8Array)
    seed: null, edits: 0, adding: false, drag: null,
  };

  function init(info) {
    state.info = info || null;
    if (!info) return;
    $('fg-class').replaceChildren(...info.classes.map(c => new Option(c.name, c.name)));
    $('fg-class').value = (info.classes.find(c => c.object) || info.classes[0]).name;
    // the image check needs the server's segmenter (ldm4j studio --segmenter)
    $('imageCheck').disabled = !info.imageCheck;
    if (!info.imageCheck) $('imageCheck').parentElement.title = 'off: start the studio with --segmenter DIR (e.g. models/toyworld-segmenter)';
    $('fgGuide').disabled = !info.guide;
    if (!info.guide) $('fgGuide').parentElement.title = 'off: start the studio with --guide DIR (e.g. models/toyworld-segmenter-guide)';
  }

  const showsJob = job => ['factorgraph', 'mapedit', 'maptext'].includes(job.mode);

  function loadImage(url) {
    const img = new Image();
    img.src = url;
    return img.decode().then(() => img);
  }

  /** A finished factorgraph or mapedit job: its image and maps become the layers, its segmentation map the one edited. */
  async function show(job) {
    const output = job.outputs[0], details = output.details;
    state.image = await loadImage(await blobUrl(output.url));
    state.layers = [{ name: 'image', kind: 'image', img: state.image, on: true }];
    for (const m of details.maps) {
      state.layers.push({ name: m.factor, kind: m.kind, img: await loadImage(m.url), on: m.kind === 'segmentation', url: m.url,
                          size: [m.width, m.height] });
    }
    const seg = state.layers.find(l => l.kind === 'segmentation');
    state.seed = details.seed;
    if (job.mode === 'factorgraph' || !state.generated) state.generated = seg ? seg.url : null;
    if (job.mode === 'factorgraph') state.edits = 0;
    await setMap(seg ? seg.url : null, seg ? seg.size : [0, 0], null);
    showLayers();
    if (job.mode === 'factorgraph') showCandidates(details);   // a regenerated image keeps the SBPC list it came from
    else if (job.mode === 'maptext' && details.candidates) {
      // the edited caption now describes the map: later edits and regenerations start from it
      $('prompt').value = generic(job.parameters).prompt;
      const c = details.candidates[0];
      $('fg-edits').textContent = `edited by text: ${(100 * c.unchanged).toFixed(0)}% of the map kept its class; recall ${c.recall.toFixed(2)}`;
    } else if (details.candidates) $('fg-edits').textContent = `regenerated: the edited map's recall is ${details.candidates[0].recall.toFixed(2)}`;
  }

  function showLayers() {
    $('fg-layers').replaceChildren(...state.layers.map(layer => {
      const label = document.createElement('label');
      label.className = 'inline';
      const box = document.createElement('input');
      box.type = 'checkbox'; box.checked = layer.on; box.dataset.layer = layer.name;
      box.onchange = () => { layer.on = box.checked; draw(); };
      label.append(box, ' ' + layer.name);
      return label;
    }));
  }

  function showCandidates(details) {
    const wanted = details.wanted && details.wanted.length ? ' of ' + details.wanted.join(', ') : '';
    $('fg-candidates').replaceChildren(...(details.candidates || []).map(c => {
      const li = document.createElement('li');
      li.className = c.chosen ? 'chosen' : '';
      const img = document.createElement('img');
      img.src = c.map; img.alt = 'candidate map, seed ' + c.seed;
      const imaged = c.imageRecall !== undefined ? `, image ${c.imageOrder + 1} recall ${c.imageRecall.toFixed(2)}` : '';
      li.append(img, `seed ${c.seed}: recall ${c.recall.toFixed(2)}${wanted}${imaged}` + (c.chosen ? ' (chosen)' : ''));
      return li;
    }));
  }

  /** The map being edited (a data URL) and, optionally, the server's region description of the selection. */
  async function setMap(url, size, region) {
    state.map = url;
    state.mapSize = size;
    state.region = region;
    state.regionMask = null;
    const seg = state.layers.find(l => l.kind === 'segmentation');
    if (seg && url) { seg.img = await loadImage(url); seg.url = url; }
    if (region) {
      const img = await loadImage(region.mask);
      const c = document.createElement('canvas');
      c.width = size[0]; c.height = size[1];
      c.getContext('2d').drawImage(img, 0, 0);
      const data = c.getContext('2d').getImageData(0, 0, size[0], size[1]).data;
      state.regionMask = new Uint8Array(size[0] * size[1]);
      for (let i = 0; i < state.regionMask.length; i++) state.regionMask[i] = data[i * 4 + 3] > 127 ? 1 : 0;
    }
    $('fg-selection').textContent = region
      ? `selected: ${region.class}, ${region.area} px, box ${region.box.join(',')}` : (url ? 'click the map to select an object' : '');
    $('fg-edits').textContent = state.edits ? `${state.edits} edit(s) since generating` : '';
    draw();
  }

  /** Image at the bottom, maps over it (translucent when the image shows), then the selection's outline. */
  function draw() {
    const canvas = $('fg-canvas'), g = canvas.getContext('2d');
    g.imageSmoothingEnabled = false;
    g.clearRect(0, 0, VIEW, VIEW);
    const imageOn = state.layers.some(l => l.kind === 'image' && l.on);
    for (const layer of state.layers) {
      if (!layer.on) continue;
      g.globalAlpha = layer.kind === 'image' || !imageOn ? 1 : 0.6;
      g.drawImage(layer.img, 0, 0, VIEW, VIEW);
    }
    g.globalAlpha = 1;
    if (state.regionMask) outline(g);
  }

  /** The selection's border: every mask pixel edge whose neighbour is outside, yellow over a dark line. */
  function outline(g) {
    const [w, h] = state.mapSize, sx = VIEW / w, sy = VIEW / h, m = state.regionMask;
    const inside = (x, y) => x >= 0 && y >= 0 && x < w && y < h && m[y * w + x] === 1;
    g.beginPath();
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!inside(x, y)) continue;
        if (!inside(x, y - 1)) { g.moveTo(x * sx, y * sy); g.lineTo((x + 1) * sx, y * sy); }
        if (!inside(x, y + 1)) { g.moveTo(x * sx, (y + 1) * sy); g.lineTo((x + 1) * sx, (y + 1) * sy); }
        if (!inside(x - 1, y)) { g.moveTo(x * sx, y * sy); g.lineTo(x * sx, (y + 1) * sy); }
        if (!inside(x + 1, y)) { g.moveTo((x + 1) * sx, y * sy); g.lineTo((x + 1) * sx, (y + 1) * sy); }
      }
    }
    g.lineWidth = 4; g.strokeStyle = 'rgba(0,0,0,0.7)'; g.stroke();
    g.lineWidth = 2; g.strokeStyle = '#ffeb3b'; g.stroke();
  }

  /** Map pixel under the pointer. */
  function mapPixel(event) {
    const r = $('fg-canvas').getBoundingClientRect();
    return [Math.floor((event.clientX - r.left) / r.width * state.mapSize[0]),
            Math.floor((event.clientY - r.top) / r.height * state.mapSize[1])];
  }

  /** Sends edits (possibly none) and a selection to the server; the answer is the new map and the selected region. */
  async function edit(ops, select) {
    if (!state.map) { say('generate first: there is no map to edit', true); return; }
    try {
      const answer = await api('/api/fgdm/edit', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ map: state.map, edits: ops, ...(select ? { select: { x: select[0], y: select[1] } } : {}) }) });
      state.edits += ops.length;
      await setMap(answer.map, [answer.width, answer.height], answer.region || null);
      if (ops.length) say(ops.map(o => o.op).join(', ') + ' done');
    } catch (err) {
      say(err.message, true);
    }
  }

  /** An operation on the selected object, named by its first pixel. */
  function onSelected(op) {
    if (!state.region) { say('select an object first: click it on the map', true); return; }
    const [w] = state.mapSize, p = state.regionMask.indexOf(1), x = p % w, y = Math.floor(p / w);
    const after = op.op === 'move' ? [x + op.dx, y + op.dy] : op.op === 'delete' ? null : [x, y];
    edit([{ ...op, x, y }], after && inside(after) ? after : null);
  }

  /** The regenerations are steered toward the edited map when the factor graph's box is ticked (and the server has a guide). */
  const guideOn = () => $('fgGuide').checked && !$('fgGuide').disabled;

  const inside = ([x, y]) => x >= 0 && y >= 0 && x < state.mapSize[0] && y < state.mapSize[1];

  function wire() {
    const canvas = $('fg-canvas');
    canvas.addEventListener('pointerdown', e => {
      if (e.button !== 0 || !state.map) return;
      const p = mapPixel(e);
      if (state.adding) {
        state.adding = false;
        $('fg-add').classList.remove('active');
        // ToyWorld's outlines exist for object classes; a background class (sky, water ...) is painted as an ellipse
        const cls = $('fg-class').value, isObject = state.info.classes.some(c => c.name === cls && c.object);
        const shape = $('fg-shape').value === 'object' && !isObject ? 'ellipse' : $('fg-shape').value;
        edit([{ op: 'add', class: cls, shape, x: p[0], y: p[1], w: number('fg-w'), h: number('fg-h') }], p);
        return;
      }
      canvas.setPointerCapture(e.pointerId);
      state.drag = p;
    });
    canvas.addEventListener('pointerup', e => {
      if (!state.drag) return;
      const from = state.drag, to = mapPixel(e);
      state.drag = null;
      const grabbed = state.regionMask && state.regionMask[from[1] * state.mapSize[0] + from[0]] === 1;
      const dx = to[0] - from[0], dy = to[1] - from[1];
      if (grabbed && (dx || dy)) edit([{ op: 'move', x: from[0], y: from[1], dx, dy }], inside(to) ? to : null);
      else edit([], from);   // a click: select the object under it
    });
    $('fg-move').onclick = () => onSelected({ op: 'move', dx: number('fg-dx'), dy: number('fg-dy') });
    $('fg-resize').onclick = () => onSelected({ op: 'resize', scale: number('fg-scale') });
    $('fg-flip-h').onclick = () => onSelected({ op: 'flip', axis: 'horizontal' });
    $('fg-flip-v').onclick = () => onSelected({ op: 'flip', axis: 'vertical' });
    $('fg-delete').onclick = () => onSelected({ op: 'delete' });
    $('fg-add').onclick = () => {
      state.adding = !state.adding;
      $('fg-add').classList.toggle('active', state.adding);
      if (state.adding) say('click the map where the ' + $('fg-class').value + ' goes');
    };
    $('fg-reset').onclick = () => { if (state.generated) { state.edits = 0; setMap(state.generated, state.mapSize, null); } };
    $('fg-regenerate').onclick = () => {
      if (!state.map) { say('generate first: there is no map to regenerate from', true); return; }
      runJob({ mode: 'mapedit', prompt: $('prompt').value, seed: state.seed, steps: number('steps'),
               guidanceScale: number('guidanceScale'), map: state.map, ...(guideOn() ? { guide: true } : {}) });
    };
    $('fg-text-edit').onclick = () => {
      if (!state.map) { say('generate first: there is no map to edit', true); return; }
      const to = $('fg-to-prompt').value.trim();
      if (!to) { say('write the edited caption first (the prompt with the change)', true); return; }
      const semantic = $('fg-semantic').checked;
      runJob({ mode: 'maptext', prompt: $('prompt').value, toPrompt: to, inversion: semantic ? 'edit-friendly' : $('fg-inversion').value,
               ...(semantic ? { semantic: 5 } : {}), seed: state.seed, steps: number('steps'), guidanceScale: number('guidanceScale'), map: state.map,
               ...(guideOn() ? { guide: true } : {}) });
    };
  }

  document.addEventListener('DOMContentLoaded', wire);
  return { init, show, showsJob, state, draw };
})();
