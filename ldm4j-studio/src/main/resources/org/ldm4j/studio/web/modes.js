// The studio's modes: which form fields each shows and what it sends (see Modes.java on the server), plus the
// pieces only one mode needs: the stroke-to-image region table and the edit mask overlay. Loaded before studio.js,
// whose helpers ($, number, painting, mask) these functions use when called.
'use strict';

/**
 * EXTENSION POINT: one entry per server mode (see Modes.java). `fields()` names the parameter inputs the mode
 * shows (elements with a matching data-for; prompt, negative prompt, sampler, seed and images are always shown);
 * `inputs()` returns the mode's own request fields; `layer: 'mask'` makes the canvas tools paint the edit mask.
 */
const COMMON_FIELDS = ['steps', 'guidanceScale', 'width', 'height'];
const GENERIC_FIELDS = ['negativePrompt', 'scheduler', 'count'];   // shown unless a mode has `ownFields`
const GRADOP_FIELDS = ['strength', 'gradSteps', 'lr', 'paintingFunction', 'blurKernel', 'blurSigma', 'regions'];
const STROKE_FIELDS = {   // what each stroke-to-image method reads (the server refuses the others)
  'gradop+': ['preset', 'iterations', ...GRADOP_FIELDS],
  gradop: GRADOP_FIELDS,
  sdedit: ['strength'],
  'iterative-sdedit': ['strength', 'iterations'],
  text: [],
};
const MODES = {
  txt2img: {
    help: 'Generates from the prompt alone; the canvas is not used.',
    fields: () => COMMON_FIELDS,
    inputs: () => ({}),
  },
  img2img: {
    help: 'The canvas is the start image (SDEdit): strength sets how much of it is redrawn.',
    fields: () => [...COMMON_FIELDS, 'strength'],
    inputs: () => ({ initImage: painting.toDataUrl(), strength: number('strength') }),
  },
  stroke2img: {
    help: 'The canvas is a stroke painting; GradOP+ turns it into a realistic image of the prompt. '
        + 'Name what a colour shows with a phrase of the prompt in the table.',
    fields: () => [...COMMON_FIELDS, 'method', ...STROKE_FIELDS[$('method').value]],
    inputs: strokeInputs,
  },
  edit: {
    help: 'The canvas is the image to edit; the tools now paint the mask over it (white = regenerate from the prompt). '
        + 'Samples are ranked by how well they keep the rest (or by CLIP, when the studio has one), best first.',
    fields: () => [...COMMON_FIELDS, 'editPreset', 'repair', ...($('repair').checked ? ['repairSteps'] : []), 'maskAttention', 'rankWith', 'maskTools'],
    inputs: () => ({ image: painting.toDataUrl(), mask: mask.toDataUrl(), preset: $('editPreset').value, rankWith: $('rankWith').value,
                     repair: $('repair').checked, ...($('repair').checked ? { repairSteps: number('repairSteps') } : {}),
                     ...($('maskAttention').value.trim() !== '' ? { maskAttention: number('maskAttention') } : {}) }),
    layer: 'mask',
  },
  factorgraph: {
    help: 'FG-DM: samples condition maps (segmentation, depth, ...) and then the image from them. With N > 1 the '
        + 'segmentation maps are scored by how many objects of the prompt they show (recall), and the image is made '
        + 'from the best. Click the map to select an object, edit it, then Regenerate.',
    fields: () => ['steps', 'guidanceScale', 'n', 'sampling', 'candidates', 'imageCheck', 'fgGuide'],
    ownFields: true,
    stage: 'factorgraph',
    // the factors' sizes, samplers and negative prompts are the graph's own: only these fields are sent
    body: () => ({ mode: 'factorgraph', prompt: $('prompt').value, seed: number('seed'), steps: number('steps'),
                   guidanceScale: number('guidanceScale'), n: number('n'), sampling: $('sampling').value, ...sbpcInputs(), ...guideInput() }),
  },
};
/** The factor graph's SBPC fields: only with N > 1 and sequential sampling (the server refuses them otherwise). */
function sbpcInputs() {
  if (!(number('n') > 1) || $('sampling').value !== 'sequential') return {};
  // the server's fast candidates (GET /api/models: SbpcSettings.fast, measured on ToyWorld): cheap maps, scored strictly
  const body = $('candidates').value === 'fast' ? { ...FactorGraph.state.info.fastCandidates } : {};
  // images are scored at the evaluator's area (0.2%), as the measured setting does
  if ($('imageCheck').checked && !$('imageCheck').disabled) Object.assign(body, { imageCheck: 2, imageMinArea: 0.002 });
  return body;
}

/** {guide: true} when the box is ticked and the server has a guide (sequential sampling only: the map must be final first). */
function guideInput() {
  return $('fgGuide').checked && !$('fgGuide').disabled && $('sampling').value === 'sequential' ? { guide: true } : {};
}

// Modes whose methods are still being written: shown, disabled, until the server lists them.
const PLANNED_MODES = [];

/** The stroke-to-image fields the chosen method reads, and the colour -> phrase rows that have a phrase. */
function strokeInputs() {
  const body = { painting: painting.toDataUrl(), method: $('method').value };
  for (const f of STROKE_FIELDS[body.method]) {
    if (f === 'regions') continue;
    const el = $(f);
    body[f] = el.type === 'number' ? number(f) : el.value;
  }
  const regions = [...document.querySelectorAll('#regions tbody tr[data-colour]')]
    .map(tr => ({ colour: tr.dataset.colour, phrase: tr.querySelector('.phrase').value.trim(), weight: Number(tr.querySelector('.weight').value) }))
    .filter(r => r.phrase);
  if (STROKE_FIELDS[body.method].includes('regions') && regions.length) body.regions = regions;
  return body;
}

const regionText = new Map();   // colour -> {phrase, weight} typed into the region table, kept across rebuilds

/** One row per colour in use: the phrase (of the prompt) it shows and its weight; what was typed survives rebuilds. */
function updateRegions(colours) {
  document.querySelectorAll('#regions tr[data-colour]').forEach(tr => regionText.set(tr.dataset.colour,
      { phrase: tr.querySelector('.phrase').value, weight: Number(tr.querySelector('.weight').value) }));
  const rows = colours.map(hex => {
    const saved = regionText.get(hex) || { phrase: '', weight: 1 };
    const tr = document.createElement('tr');
    tr.dataset.colour = hex;
    const swatch = document.createElement('td');
    swatch.innerHTML = '<span class="swatch"></span>';
    swatch.firstChild.style.background = hex;
    swatch.append(hex);
    const phrase = document.createElement('input');
    phrase.className = 'phrase'; phrase.value = saved.phrase; phrase.placeholder = 'e.g. house';
    const weight = document.createElement('input');
    weight.className = 'weight'; weight.type = 'number'; weight.step = 'any'; weight.value = saved.weight;
    const cells = [phrase, weight].map(input => { const td = document.createElement('td'); td.append(input); return td; });
    tr.append(swatch, ...cells);
    return tr;
  });
  if (!rows.length) rows.push(Object.assign(document.createElement('tr'), { className: 'empty', innerHTML: '<td colspan="3">paint to list the colours</td>' }));
  document.querySelector('#regions tbody').replaceChildren(...rows);
}

/** The chosen method's own defaults (official GradOP+ code; GradOP takes 50 Adam steps, the deleted stub's). */
function methodDefaults() {
  $('strength').value = 0.8;
  $('iterations').value = 3;
  $('gradSteps').value = $('method').value === 'gradop' ? 50 : 12;
  $('lr').value = 0.1;
}

/** Tints the picture magenta where the mask is white, at 55%, so the image stays visible under the mask. */
function overlayMask(picture, maskPixels) {
  const tint = [255, 0, 255];
  for (let o = 0; o < picture.length; o += 4) {
    const a = 0.55 * maskPixels[o] / 255;
    for (let c = 0; c < 3; c++) picture[o + c] = picture[o + c] * (1 - a) + tint[c] * a;
  }
}

/** One line on how a result was made beyond the generic request: the method and its regions, or the edit's rank. */
function methodLine(p) {
  if (p.method) return p.method + (p.preset ? ' ' + p.preset : '') + (p.regions ? ': ' + p.regions.join(', ') : '');
  if (p.rank) return `rank ${p.rank}, ${p.scorer} ${p.score != null ? p.score.toFixed(2) : 'inf'}` + (p.repaired ? ', repaired' : '');
  return '';
}
