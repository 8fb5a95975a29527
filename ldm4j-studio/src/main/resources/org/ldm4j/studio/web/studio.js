// The studio page: canvas tools, modes, jobs with live progress, gallery. It talks to the server only through the
// JSON API documented in the module README (the same calls any other client would make).
'use strict';

const $ = id => document.getElementById(id);

// The token, if the server has one, arrives in the URL fragment (never sent in requests) and stays in this tab.
const token = (() => {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem('ldm4j-token', decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname); }
  return sessionStorage.getItem('ldm4j-token');
})();

function headers(extra) {
  const h = { ...extra };
  if (token) h.Authorization = 'Bearer ' + token;
  return h;
}

/** Calls the API; a non-2xx answer becomes an Error with the server's message. */
async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { /* not JSON: reported below */ }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

/** Gallery files need the token too, so images are fetched and shown through blob URLs. */
async function blobUrl(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return URL.createObjectURL(await response.blob());
}

let painting;
let mask;          // the edit mask: white strokes on black, over the canvas in edit mode
let mode = 'txt2img';
let model = null;
let currentJob = null;
let tool = 'brush';

// ---- canvas --------------------------------------------------------------------------------------------------

const canvas = $('canvas');
const ctx = canvas.getContext('2d');

function render() {
  if (canvas.width !== painting.width || canvas.height !== painting.height) {
    canvas.width = painting.width; canvas.height = painting.height;
    applyZoom();
  }
  if (mask.width !== painting.width || mask.height !== painting.height) mask.reset(painting.width, painting.height);
  const picture = painting.composite();
  if (mode === 'edit') overlayMask(picture.data, mask.composite().data);
  ctx.putImageData(picture, 0, 0);
}

/** The layer the canvas tools paint on: the mask in edit mode, the picture otherwise. */
function layer() { return MODES[mode].layer === 'mask' ? mask : painting; }

function applyZoom() {
  const z = Number($('zoom').value);
  canvas.style.width = painting.width * z + 'px';
  canvas.style.height = painting.height * z + 'px';
  $('zoom-out').textContent = z + '×';
}

function fitZoom() {
  const box = Math.min(560, $('stage').clientWidth - 40);
  $('zoom').value = Math.max(1, Math.min(32, Math.floor(box / Math.max(painting.width, painting.height))));
  applyZoom();
}

function updatePalette() {
  const box = $('palette');
  const colours = painting.palette(12);
  updateRegions(colours);
  box.replaceChildren(...colours.map(hex => {
    const b = document.createElement('button');
    b.type = 'button'; b.title = hex; b.dataset.colour = hex;
    b.style.background = hex;
    b.onclick = () => { $('colour').value = hex; };
    return b;
  }));
}

function pixelAt(event) {
  const r = canvas.getBoundingClientRect();
  return [Math.floor((event.clientX - r.left) / r.width * painting.width),
          Math.floor((event.clientY - r.top) / r.height * painting.height)];
}

/** The mask is binary: white at full opacity (the eraser takes it away). */
function brushOptions() {
  const masking = layer() === mask;
  return { size: Number($('size').value), opacity: masking ? 1 : Number($('opacity').value) / 100,
           colour: masking ? '#ffffff' : $('colour').value, filled: $('filled').checked };
}

canvas.addEventListener('pointerdown', e => {
  if (e.button !== 0) return;
  const [x, y] = pixelAt(e), target = layer();
  if (tool === 'fill') {
    if (x >= 0 && y >= 0 && x < target.width && y < target.height) target.fill(x, y, brushOptions().colour, brushOptions().opacity);
    updatePalette();
    return;
  }
  canvas.setPointerCapture(e.pointerId);
  target.begin(tool, x, y, brushOptions());
});
canvas.addEventListener('pointermove', e => { const target = layer(); if (target.stroke) { const [x, y] = pixelAt(e); target.move(x, y); } });
const endStroke = () => { const target = layer(); if (target.stroke) { target.end(); updatePalette(); } };
canvas.addEventListener('pointerup', endStroke);
canvas.addEventListener('pointercancel', endStroke);

function selectTool(name) {
  tool = name;
  document.querySelectorAll('.tool').forEach(b => b.classList.toggle('active', b.dataset.tool === name));
}

document.querySelectorAll('.tool').forEach(b => b.addEventListener('click', () => selectTool(b.dataset.tool)));
$('size').oninput = () => { $('size-out').textContent = $('size').value; };
$('opacity').oninput = () => { $('opacity-out').textContent = $('opacity').value + '%'; };
$('background').onchange = () => painting.setBackground($('background').value);
$('undo').onclick = () => { layer().undo(); syncSize(); updatePalette(); };
$('redo').onclick = () => { layer().redo(); syncSize(); updatePalette(); };
$('clear').onclick = () => { layer().clear(); updatePalette(); };
$('mask-undo').onclick = () => mask.undo();
$('mask-clear').onclick = () => mask.clear();
$('method').onchange = () => { methodDefaults(); selectMode(mode); };
$('repair').onchange = () => selectMode(mode);
$('editPreset').onchange = () => { $('repair').checked = $('editPreset').value === 'recommended'; selectMode(mode); };
$('zoom').oninput = applyZoom;
$('fit').onclick = fitZoom;
$('open').onchange = async () => { if ($('open').files[0]) await openAsCanvas($('open').files[0]); $('open').value = ''; };

document.addEventListener('keydown', e => {
  if (e.target.closest('input, textarea, select')) return;
  if ((e.ctrlKey || e.metaKey) && e.key === 'z') { e.preventDefault(); $('undo').click(); return; }
  if ((e.ctrlKey || e.metaKey) && e.key === 'y') { e.preventDefault(); $('redo').click(); return; }
  const keys = { b: 'brush', e: 'eraser', f: 'fill', l: 'line', r: 'rect', o: 'ellipse' };
  if (!e.ctrlKey && !e.metaKey && keys[e.key]) selectTool(keys[e.key]);
});

/** The canvas keeps the size in the width/height fields (the model's resolution). */
function syncSize() {
  $('width').value = painting.width;
  $('height').value = painting.height;
}

function sizeFromFields() {
  const w = number('width'), h = number('height');
  if (w > 0 && h > 0 && w <= 2048 && h <= 2048) painting.resize(w, h);
}
$('width').onchange = sizeFromFields;
$('height').onchange = sizeFromFields;

async function openAsCanvas(blob) {
  const bitmap = await createImageBitmap(blob);
  painting.load(bitmap, painting.width, painting.height);
  updatePalette();
}

async function useAsCanvas(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  painting.load(img, img.naturalWidth, img.naturalHeight);
  syncSize();
  updatePalette();
  say('result loaded as the canvas');
}

// ---- drag and drop -----------------------------------------------------------------------------------------------

document.addEventListener('dragover', e => { e.preventDefault(); $('stage').classList.toggle('drop', !!e.target.closest('#stage')); });
document.addEventListener('dragleave', () => $('stage').classList.remove('drop'));
document.addEventListener('drop', async e => {
  e.preventDefault();
  $('stage').classList.remove('drop');
  const file = e.dataTransfer.files[0];
  if (!file) return;
  if (e.target.closest('#stage')) await openAsCanvas(file);
  if (file.type === 'image/png') {
    try {
      const answer = await api('/api/parameters', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: file });
      if (answer.parameters) { restore(answer.parameters); say('parameters restored from ' + file.name); }
    } catch (err) {
      if (!e.target.closest('#stage')) say(err.message, true);
    }
  }
});

// ---- modes and parameters ----------------------------------------------------------------------------------------

function number(id) { const v = $(id).value; return v === '' ? null : Number(v); }

function showModes(serverModes) {
  const nav = $('modes');
  const tabs = serverModes.filter(m => MODES[m.name]).map(m => ({ ...m, available: m.enabled !== false }));
  PLANNED_MODES.filter(p => !tabs.some(t => t.name === p.name)).forEach(p => tabs.push({ ...p, available: false }));
  nav.replaceChildren(...tabs.map(m => {
    const b = document.createElement('button');
    b.type = 'button'; b.role = 'tab'; b.dataset.mode = m.name; b.textContent = m.title;
    if (!m.available) {   // planned, or off on this server (e.g. no FG-DM factors): say why
      b.setAttribute('aria-disabled', 'true');
      b.title = m.message || 'coming: ' + (m.help || '');
      b.onclick = () => say(m.title + ' is off: ' + b.title, true);
    } else b.onclick = () => selectMode(m.name);
    return b;
  }));
  selectMode(mode);
}

function selectMode(name) {
  if (name === 'stroke2img' && mode !== name) methodDefaults();
  if (layer().stroke) layer().end();
  mode = name;
  document.querySelectorAll('#modes button').forEach(b => b.classList.toggle('active', b.dataset.mode === name));
  $('mode-help').textContent = MODES[name].help;
  const fields = MODES[name].ownFields ? MODES[name].fields() : [...GENERIC_FIELDS, ...MODES[name].fields()];
  document.querySelectorAll('#params [data-for]').forEach(el => { el.hidden = !fields.includes(el.dataset.for); });
  document.body.dataset.stage = MODES[name].stage || 'canvas';
  $('fg-stage').hidden = MODES[name].stage !== 'factorgraph';
  $('count-label').textContent = name === 'edit' ? 'Samples' : 'Images';
  render();
}

function requestBody() {
  if (MODES[mode].body) return MODES[mode].body();
  const body = { mode, prompt: $('prompt').value, negativePrompt: $('negativePrompt').value || null,
                 scheduler: $('scheduler').value || null, seed: number('seed'), count: number('count') };
  COMMON_FIELDS.forEach(f => { if (number(f) !== null) body[f] = number(f); });
  return { ...body, ...MODES[mode].inputs() };
}

/** The generic request inside a recorded one: stroke2img records it as `generation`, edit as `request`. */
function generic(p) { return (p && (p.generation || p.request)) || p || {}; }

/** Puts a recorded request (from a PNG or the gallery) back into the form, with a method's own settings. */
function restore(recorded) {
  const p = generic(recorded), s = recorded.settings || {};
  if (recorded.method) $('method').value = recorded.method;
  if (p.mode && MODES[p.mode]) selectMode(p.mode);   // first: entering stroke2img resets the method's defaults
  for (const f of ['prompt', 'negativePrompt', 'steps', 'guidanceScale', 'seed', 'count', 'strength']) {
    if (p[f] !== undefined && p[f] !== null) $(f).value = p[f];
  }
  $('scheduler').value = p.scheduler || '';
  if (p.width && p.height) { $('width').value = p.width; $('height').value = p.height; sizeFromFields(); }
  if (recorded.preset && p.mode === 'stroke2img') $('preset').value = recorded.preset;
  for (const f of ['iterations', 'gradSteps', 'lr']) if (s[f] !== undefined) $(f).value = s[f];
  if (s.painting) { $('paintingFunction').value = s.painting.function; $('blurKernel').value = s.painting.blurKernel; $('blurSigma').value = s.painting.blurSigma; }
}

// ---- jobs ------------------------------------------------------------------------------------------------------

function say(text, error) {
  $('message').textContent = text;
  $('message').classList.toggle('error', !!error);
}

$('params').addEventListener('submit', e => { e.preventDefault(); runJob(requestBody()); });

/** Submits a job and follows it to the end (one at a time); the Factor graph's Regenerate uses it too. */
async function runJob(request) {
  if (currentJob) return;
  try {
    const job = await api('/api/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                         body: JSON.stringify(request) });
    currentJob = job.id;
    $('generate').disabled = true; $('cancel').disabled = false;
    say('job ' + job.id + ' queued');
    await follow(job.id);
  } catch (err) {
    say(err.message, true);
  } finally {
    currentJob = null;
    $('generate').disabled = !model; $('cancel').disabled = true;
  }
}

$('cancel').onclick = async () => {
  if (!currentJob) return;
  try { await api('/api/jobs/' + currentJob, { method: 'DELETE' }); say('cancelling…'); } catch (err) { say(err.message, true); }
};

/**
 * Reads the job's server-sent events with fetch (EventSource cannot send the token header) until the stream ends.
 */
async function follow(id) {
  const response = await fetch('/api/jobs/' + id + '/events', { headers: headers({ Accept: 'text/event-stream' }) });
  if (!response.ok) throw new Error('events: ' + response.status);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '', last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const event = /^event: ?(.*)$/m.exec(block), data = block.split('\n').filter(l => l.startsWith('data:')).map(l => l.slice(5).trim()).join('\n');
      if (!event || !data) continue;
      const payload = JSON.parse(data);
      if (event[1] === 'progress') showProgress(payload);
      if (event[1] === 'state') { last = payload; showState(payload); }
    }
  }
  if (last && last.state === 'done') await loadGallery();
}

/** What the page calls the phases a job reports after its denoising loops (the events' "phase"). */
const PHASES = { repair: 'background repair' };

function showProgress(p) {
  $('progress').value = p.fraction;
  $('progress-text').textContent = p.phase && p.phase !== 'denoise'
    ? `${PHASES[p.phase] || p.phase}, step ${p.step}/${p.total}`
    : `image ${p.image + 1}/${p.images}, step ${p.step}/${p.total}`;
  if (p.preview) { $('preview').src = p.preview; $('preview').hidden = false; }
}

function showState(job) {
  if (job.state === 'done') {
    $('progress').value = 1;
    $('progress-text').textContent = 'done';
    say(`done: ${job.results.length} image(s), seed ${generic(job.parameters).seed}`);
    showResults(job.outputs).catch(err => say(err.message, true));
    if (FactorGraph.showsJob(job)) FactorGraph.show(job).catch(err => say(err.message, true));
  } else if (job.state === 'failed') {
    say('failed: ' + job.error, true);
  } else if (job.state === 'cancelled') {
    $('progress-text').textContent = 'cancelled';
    say('cancelled');
  } else {
    $('progress-text').textContent = job.state;
  }
}

/** The last job's images in the server's order (an edit's best first), each with its caption (rank and score). */
async function showResults(outputs) {
  const figures = await Promise.all(outputs.map(async o => {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.src = await blobUrl(o.url); img.alt = o.label || o.url;
    const caption = document.createElement('figcaption');
    caption.textContent = o.label || '';
    figure.append(img, caption);
    return figure;
  }));
  $('results').replaceChildren(...figures);
}

// ---- gallery -----------------------------------------------------------------------------------------------------

async function loadGallery() {
  const { items } = await api('/api/gallery');
  const cards = await Promise.all(items.slice(0, 60).map(async item => {
    const card = document.createElement('div');
    card.className = 'item'; card.dataset.file = item.file;
    const img = document.createElement('img');
    img.alt = item.file;
    img.src = await blobUrl(item.url);
    const recorded = item.parameters || {}, p = generic(recorded);
    const caption = document.createElement('div');
    caption.className = 'caption';
    caption.textContent = p.prompt !== undefined ? `${p.mode}: ${p.prompt}` : item.file;
    caption.title = JSON.stringify(recorded, null, 1);
    const details = document.createElement('div');
    details.className = 'caption';
    details.textContent = p.seed !== undefined ? `seed ${p.seed}, ${p.steps} steps, cfg ${p.guidanceScale}` + (p.strength != null ? `, strength ${p.strength}` : '') : '';
    const method = document.createElement('div');
    method.className = 'caption method';
    method.textContent = methodLine(recorded);
    const row = document.createElement('div');
    row.className = 'row';
    const use = document.createElement('button');
    use.type = 'button'; use.textContent = 'Use as canvas'; use.className = 'use';
    use.onclick = () => useAsCanvas(img.src);
    const again = document.createElement('button');
    again.type = 'button'; again.textContent = 'Restore'; again.className = 'restore'; again.title = 'restore these parameters';
    again.onclick = () => restore(recorded);
    const download = document.createElement('a');
    download.href = img.src; download.download = item.file; download.textContent = 'Download'; download.className = 'download';
    row.append(use, again, download);
    card.append(img, caption, details, method, row);
    return card;
  }));
  $('gallery').replaceChildren(...cards);
}
$('refresh').onclick = () => loadGallery().catch(err => say(err.message, true));

// ---- start -------------------------------------------------------------------------------------------------------

async function start() {
  mask = new Paint.Painting(64, 64);
  mask.background = [0, 0, 0];
  painting = new Paint.Painting(64, 64);
  painting.onChange(render);
  mask.onChange(render);
  window.studio = { painting, mask, selectTool, selectMode, restore, fg: FactorGraph };   // for tests and the console
  try {
    const info = await api('/api/models');
    info.schedulers.forEach(s => $('scheduler').append(new Option(s, s)));
    const clipOption = $('rankWith').querySelector('option[value="clip"]');
    clipOption.disabled = !info.clipRanking;
    if (!info.clipRanking) clipOption.textContent = 'CLIP (start with --clip)';
    FactorGraph.init(info.factorGraph);
    showModes(info.modes);
    model = info.models[0] || null;
    if (model) {
      $('model-status').textContent = `model: ${model.name} (${model.defaultSize}×${model.defaultSize})`;
      $('steps').value = model.defaultSteps;
      $('guidanceScale').value = model.defaultGuidanceScale;
      $('width').step = $('height').step = model.vaeScaleFactor;
      painting.reset(model.defaultSize, model.defaultSize);
    } else {
      $('model-status').textContent = info.message;
      $('model-status').classList.add('error');
      say(info.message, true);
    }
    $('generate').disabled = !model;
    syncSize();
    render();
    fitZoom();
    await loadGallery();
  } catch (err) {
    $('model-status').textContent = 'cannot reach the server: ' + err.message;
    $('model-status').classList.add('error');
  }
  document.body.dataset.ready = 'true';
}

start();
