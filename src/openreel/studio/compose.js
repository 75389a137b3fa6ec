// The "New video" form: prompt, model and its limits, format, length, seed, negative prompt and
// the reference image. It owns the models list and the chosen image; the server's limits
// (prompt length, image size and types, upload size) come in as `limits`, read at start.

import { api } from './api.js';
import { $, el, errorText, megabytes } from './dom.js';

const TYPE_NAMES = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP' };

function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0] & 0x7fffffff;
}

function sizeAllowed(size, caps) {
  if (!caps) return true;
  if (caps.sizes.includes(size)) return true;
  const [w, h] = size.split('x').map(Number);
  return caps.any_size && Math.min(w, h) >= caps.min_side && Math.max(w, h) <= caps.max_side;
}

/** "PNG, JPEG or WebP" for a list of media types. */
function typeList(types) {
  const names = types.map((type) => TYPE_NAMES[type] ?? type);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
}

/**
 * Wires the form. `limits` is the server's /v1/studio/limits; `onCreated(video)` gets every
 * video the form starts.
 */
export function createCompose({ limits, onCreated }) {
  let models = new Map();
  let reference = null;
  let generatedOnce = false;
  // A form with the image must fit in one request body, whatever the image limit says.
  const imageLimit = Math.min(limits.image_max_bytes, limits.upload_max_bytes);
  const imageTypes = typeList(limits.image_types);
  const imageHint = `${imageTypes}, at most ${megabytes(imageLimit)} MB.`;

  function showError(text) {
    $('compose-error').textContent = text;
  }

  function currentCaps() {
    return models.get($('model').value)?.capabilities ?? null;
  }

  function applyCaps() {
    const caps = currentCaps();
    if (!caps) return;
    const seconds = $('seconds');
    seconds.max = String(caps.max_seconds);
    if (Number(seconds.value) > caps.max_seconds) seconds.value = String(caps.max_seconds);
    const format = $('format');
    for (const option of format.options) option.disabled = !sizeAllowed(option.value, caps);
    if (format.selectedOptions[0]?.disabled) {
      const first = [...format.options].find((o) => !o.disabled);
      if (first) format.value = first.value;
    }
    // Sound is on wherever the model makes it; a silent model has the switch off and greyed.
    $('audio').disabled = !caps.audio;
    $('audio').checked = Boolean(caps.audio);
    $('audio-hint').textContent = caps.audio ? 'With its soundtrack (AAC, in the MP4).' : 'This model makes silent video.';
    $('reference').disabled = !caps.image_input;
    $('reference-hint').textContent = caps.image_input ? imageHint : 'This model does not use reference images.';
    if (!caps.image_input) clearReference();
    const fps = caps.fps_range ? ` · ${caps.fps_range[0]}–${caps.fps_range[1]} fps` : '';
    $('model-limits').textContent = `Up to ${caps.max_seconds} s${fps}${caps.image_input ? ' · reference image' : ''}${caps.audio ? ' · audio' : ''}`;
  }

  /** Reads the models this person may use and fills the model menu. */
  async function loadModels() {
    const select = $('model');
    try {
      const list = await api('/v1/models');
      models = new Map(list.data.map((m) => [m.id, m]));
      select.replaceChildren(...list.data.map((m) => el('option', { value: m.id }, m.id)));
      applyCaps();
    } catch (error) {
      $('model-limits').textContent = `Models could not be loaded: ${errorText(error)}`;
    }
  }

  function updateCounter() {
    $('prompt-count').textContent = `${$('prompt').value.length} / ${limits.prompt_max_chars}`;
  }

  function clearReference() {
    reference = null;
    $('reference').value = '';
    const preview = $('reference-preview');
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.removeAttribute('src');
    preview.hidden = true;
    $('reference-clear').hidden = true;
  }

  function takeReference(file) {
    if (!file) return;
    if (!limits.image_types.includes(file.type)) {
      showError(`The reference image must be ${imageTypes}; got ${file.type || 'an unknown type'}.`);
      return;
    }
    if (file.size > imageLimit) {
      showError(`The reference image is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${megabytes(imageLimit)} MB.`);
      return;
    }
    clearReference();
    reference = file;
    const preview = $('reference-preview');
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    $('reference-clear').hidden = false;
    showError('');
  }

  async function generate() {
    const prompt = $('prompt').value.trim();
    if (!prompt) {
      showError('Write a prompt first.');
      $('prompt').focus();
      return;
    }
    if (!$('seed-lock').checked && generatedOnce) $('seed').value = String(randomSeed());
    const fields = {
      prompt,
      model: $('model').value,
      seconds: $('seconds').value,
      size: $('format').value,
    };
    if ($('seed').value !== '') fields.seed = Number($('seed').value);
    if ($('negative').value.trim()) fields.negative_prompt = $('negative').value.trim();
    fields.audio = $('audio').checked && !$('audio').disabled;
    let body = fields;
    if (reference) {
      body = new FormData();
      for (const [key, value] of Object.entries(fields)) body.append(key, String(value));
      body.append('input_reference', reference, reference.name);
    }
    showError('');
    $('generate').disabled = true;
    try {
      const video = await api('/v1/videos', { method: 'POST', body });
      generatedOnce = true;
      onCreated(video);
    } catch (failure) {
      showError(failure.code === 'moderation_blocked' ? `Refused: ${errorText(failure)}` : errorText(failure));
      $('prompt').focus();
    } finally {
      $('generate').disabled = false;
    }
  }

  for (const id of ['prompt', 'negative']) $(id).maxLength = limits.prompt_max_chars;
  $('reference').accept = limits.image_types.join(',');
  $('reference-hint').textContent = imageHint;
  $('prompt').addEventListener('input', updateCounter);
  $('model').addEventListener('change', applyCaps);
  $('seed').value = String(randomSeed());
  $('seed-new').addEventListener('click', () => { $('seed').value = String(randomSeed()); });
  $('seed-lock').addEventListener('change', () => {
    $('seed-hint').textContent = $('seed-lock').checked
      ? 'Locked: every video uses this seed.'
      : 'Unlocked: a new random seed for every video.';
  });
  $('reference').addEventListener('change', () => takeReference($('reference').files[0]));
  $('reference-clear').addEventListener('click', clearReference);
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    if (!$('reference').disabled) takeReference(event.dataTransfer.files[0]);
  });
  $('compose').addEventListener('submit', async (event) => {
    event.preventDefault();
    await generate();
  });
  updateCounter();

  return { loadModels, showError };
}
