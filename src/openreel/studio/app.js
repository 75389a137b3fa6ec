// OpenReel Studio: sign in, compose, follow, watch and browse videos through the public API.
// Everything the page shows comes from the server (GET /v1/videos...), so history survives
// reloads and restarts; the page keeps no token and nothing in local storage.

import { ApiError, api, contentUrl, currentSession, follow, signIn, signOut, whenSignedOut } from './api.js';
import { initAdmin, loadAdmin } from './admin.js';

const $ = (id) => document.getElementById(id);
const MAX_PROMPT = 4000;
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const PAGE = 12;
const MAX_VERIFY_BYTES = 15 * 1024 * 1024; // under the server's default 16 MB body limit
const SPRITE_TILE_WIDTH = 256; // media/previews.py: tiles are 256 px wide, 5 to a row
const SPRITE_TILES = 10;
const PHASES = { queued: 'Waiting in the queue', rendering: 'Rendering frames', finalizing: 'Encoding and signing', done: 'Done' };

const state = {
  session: null,
  models: new Map(),
  jobs: new Map(), // id -> { video, started, stop, el }
  reference: null,
  history: { cursor: null, hasMore: true, loading: false, ids: new Set() },
  watching: null,
  view: 'create',
};

// ----- small helpers ---------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function toast(text) {
  const box = $('toast');
  box.textContent = text;
  box.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove('show'), 2500);
}

function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

function when(epoch) {
  return epoch ? new Date(epoch * 1000).toLocaleString() : '—';
}

function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0] & 0x7fffffff;
}

function message(error) {
  if (error instanceof ApiError) return error.message;
  return String(error?.message || error);
}

function statusLabel(video) {
  if (video.status === 'failed' && video.error?.code === 'cancelled') return 'cancelled';
  return video.status.replace('_', ' ');
}

// ----- views and session -----------------------------------------------------------------------

function setView(view) {
  if (view === 'admin' && !state.session?.admin) view = 'create';
  state.view = view;
  for (const name of ['create', 'history', 'admin']) $(`view-${name}`).hidden = name !== view;
  for (const tab of document.querySelectorAll('.tab')) {
    if (tab.dataset.view === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (view === 'history') loadMore();
  if (view === 'admin') loadAdmin();
}

function showSignIn(reason = '') {
  for (const job of state.jobs.values()) job.stop?.();
  state.jobs.clear();
  state.session = null;
  $('loading').hidden = true;
  $('nav').hidden = true;
  $('who').hidden = true;
  for (const id of ['view-create', 'view-history', 'view-admin', 'watch']) $(id).hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = reason;
  $('token').value = '';
  $('token').focus();
}

async function showStudio(session) {
  state.session = session;
  $('loading').hidden = true;
  $('signin').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('principal').textContent = session.principal;
  $('admin-tab').hidden = !session.admin;
  resetHistory();
  $('jobs').replaceChildren();
  $('jobs-section').hidden = true;
  setView('create');
  await Promise.all([loadModels(), refreshUsage(), loadMore()]);
  const match = /^#video=([\w-]+)$/.exec(location.hash);
  if (match) openVideoById(match[1]);
}

async function refreshUsage() {
  try {
    const usage = await api('/v1/usage');
    let text;
    if (usage.exempt || usage.seconds_limit === null) text = `${Math.round(usage.seconds_used)} s made this period`;
    else text = `${Math.round(usage.seconds_left)} s of ${Math.round(usage.seconds_limit)} s left`;
    if (usage.concurrent_limit) text += ` · ${usage.active_videos}/${usage.concurrent_limit} running`;
    $('usage').textContent = text;
  } catch (error) {
    $('usage').textContent = '';
  }
}

function setupSession() {
  whenSignedOut((error) => showSignIn(`Your session ended: ${error.message}`));
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) {
      $('signin-error').textContent = 'Paste an access token first.';
      return;
    }
    $('signin-error').textContent = '';
    try {
      const session = await signIn(token);
      $('token').value = '';
      const ready = showStudio(session); // shows the studio at once, then loads its data
      $('prompt').focus();
      await ready;
    } catch (error) {
      $('signin-error').textContent = message(error);
      $('token').select();
    }
  });
  $('sign-out').addEventListener('click', async () => {
    await signOut().catch(() => {});
    showSignIn('You are signed out.');
  });
  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => setView(tab.dataset.view));
  }
}

// ----- compose ---------------------------------------------------------------------------------

function currentCaps() {
  return state.models.get($('model').value)?.capabilities ?? null;
}

function sizeAllowed(size, caps) {
  if (!caps) return true;
  if (caps.sizes.includes(size)) return true;
  const [w, h] = size.split('x').map(Number);
  return caps.any_size && Math.min(w, h) >= caps.min_side && Math.max(w, h) <= caps.max_side;
}

function applyLimits() {
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
  $('reference').disabled = !caps.image_input;
  $('reference-hint').textContent = caps.image_input
    ? 'PNG, JPEG or WebP, at most 8 MB.'
    : 'This model does not use reference images.';
  if (!caps.image_input) clearReference();
  const fps = caps.fps_range ? ` · ${caps.fps_range[0]}–${caps.fps_range[1]} fps` : '';
  $('model-limits').textContent = `Up to ${caps.max_seconds} s${fps}${caps.image_input ? ' · reference image' : ''}${caps.audio ? ' · audio' : ''}`;
}

async function loadModels() {
  const select = $('model');
  try {
    const list = await api('/v1/models');
    state.models = new Map(list.data.map((m) => [m.id, m]));
    select.replaceChildren(...list.data.map((m) => el('option', { value: m.id }, m.id)));
    applyLimits();
  } catch (error) {
    $('model-limits').textContent = `Models could not be loaded: ${message(error)}`;
  }
}

function updateCounter() {
  const length = $('prompt').value.length;
  $('prompt-count').textContent = `${length} / ${MAX_PROMPT}`;
}

function clearReference() {
  state.reference = null;
  $('reference').value = '';
  const preview = $('reference-preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.removeAttribute('src');
  preview.hidden = true;
  $('reference-clear').hidden = true;
}

function takeReference(file) {
  if (!file) return;
  if (!IMAGE_TYPES.includes(file.type)) {
    $('compose-error').textContent = `The reference image must be PNG, JPEG or WebP; got ${file.type || 'an unknown type'}.`;
    return;
  }
  if (file.size > MAX_IMAGE_BYTES) {
    $('compose-error').textContent = `The reference image is ${(file.size / 1048576).toFixed(1)} MB; the limit is 8 MB.`;
    return;
  }
  clearReference();
  state.reference = file;
  const preview = $('reference-preview');
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  $('reference-clear').hidden = false;
  $('compose-error').textContent = '';
}

function setupCompose() {
  $('prompt').addEventListener('input', updateCounter);
  $('model').addEventListener('change', applyLimits);
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
}

async function generate() {
  const error = $('compose-error');
  const prompt = $('prompt').value.trim();
  if (!prompt) {
    error.textContent = 'Write a prompt first.';
    $('prompt').focus();
    return;
  }
  if (!$('seed-lock').checked && state.generatedOnce) $('seed').value = String(randomSeed());
  const fields = {
    prompt,
    model: $('model').value,
    seconds: $('seconds').value,
    size: $('format').value,
  };
  if ($('seed').value !== '') fields.seed = Number($('seed').value);
  if ($('negative').value.trim()) fields.negative_prompt = $('negative').value.trim();
  let body = fields;
  if (state.reference) {
    body = new FormData();
    for (const [key, value] of Object.entries(fields)) body.append(key, String(value));
    body.append('input_reference', state.reference, state.reference.name);
  }
  error.textContent = '';
  $('generate').disabled = true;
  try {
    const video = await api('/v1/videos', { method: 'POST', body });
    state.generatedOnce = true;
    addJob(video);
    refreshUsage();
  } catch (failure) {
    error.textContent = failure.code === 'moderation_blocked'
      ? `Refused: ${message(failure)}`
      : message(failure);
    $('prompt').focus();
  } finally {
    $('generate').disabled = false;
  }
}

// ----- jobs in flight --------------------------------------------------------------------------

function addJob(video) {
  if (state.jobs.has(video.id)) return;
  const bar = el('progress', { max: '100', value: String(video.progress), 'aria-label': `Progress of ${video.prompt}` });
  const phase = el('span', { class: 'phase' });
  const times = el('span', { class: 'times' });
  const cancel = el('button', { type: 'button', class: 'danger', onclick: () => cancelJob(video.id) }, 'Cancel');
  const item = el('li', { class: 'job', dataset: { id: video.id } },
    el('p', { class: 'prompt-text' }, video.prompt),
    bar,
    el('div', { class: 'meta' }, phase, times, cancel));
  $('jobs').prepend(item);
  $('jobs-section').hidden = false;
  const job = { video, started: Date.now(), firstProgress: null, el: item, bar, phase, times, cancel };
  state.jobs.set(video.id, job);
  updateJob(video);
  job.stop = follow(video.id, updateJob, () => dropJob(video.id));
  upsertTile(video);
}

function updateJob(video) {
  const job = state.jobs.get(video.id);
  if (!job) return;
  job.video = video;
  job.bar.value = video.progress;
  if (video.progress > 0 && job.firstProgress === null) job.firstProgress = { at: Date.now(), progress: video.progress };
  const phase = PHASES[video.phase] || video.phase;
  job.phase.textContent = `${statusLabel(video)} · ${phase} · ${video.progress}%`;
  tickJob(job);
  upsertTile(video);
  if (state.watching === video.id) showWatch(video);
  if (video.status === 'completed') {
    finishJob(video.id);
    refreshUsage();
    // Open it where the person is composing; elsewhere, do not pull them away.
    if (state.view === 'create') openVideo(video);
    else toast('A video is ready: open it from History.');
  } else if (video.status === 'failed') {
    job.stop?.();
    job.cancel.textContent = 'Dismiss';
    job.cancel.className = 'ghost';
    job.cancel.onclick = () => dropJob(video.id);
    const reason = video.error?.code === 'cancelled' ? 'Cancelled.' : `Failed: ${video.error?.message || 'unknown error'}`;
    job.times.textContent = reason;
    job.el.classList.add('failed');
    if (video.error?.code !== 'cancelled') $('compose-error').textContent = reason;
    refreshUsage();
  }
}

function tickJob(job) {
  const { video } = job;
  if (video.status === 'completed' || video.status === 'failed') return;
  const elapsed = (Date.now() - job.started) / 1000;
  let left = '';
  if (job.firstProgress && video.progress > job.firstProgress.progress) {
    const rate = (video.progress - job.firstProgress.progress) / ((Date.now() - job.firstProgress.at) / 1000);
    left = ` · about ${duration((100 - video.progress) / rate)} left`;
  }
  job.times.textContent = `${duration(elapsed)} elapsed${left}`;
}

function finishJob(id) {
  const job = state.jobs.get(id);
  if (!job) return;
  job.stop?.();
  job.el.remove();
  state.jobs.delete(id);
  $('jobs-section').hidden = state.jobs.size === 0;
}

const dropJob = finishJob;

async function cancelJob(id) {
  const job = state.jobs.get(id);
  if (job) job.cancel.disabled = true;
  try {
    updateJob(await api(`/v1/videos/${encodeURIComponent(id)}/cancel`, { method: 'POST' }));
  } catch (error) {
    toast(message(error));
    if (job) job.cancel.disabled = false;
  }
}

// ----- watch -----------------------------------------------------------------------------------

async function openVideoById(id) {
  try {
    openVideo(await api(`/v1/videos/${encodeURIComponent(id)}`));
  } catch (error) {
    toast(message(error));
  }
}

function openVideo(video) {
  state.watching = video.id;
  showWatch(video, true);
  const watch = $('watch');
  watch.hidden = false;
  if (video.status === 'completed') verifyProvenance(video);
  if (state.view !== 'create') setView('create');
  watch.scrollIntoView({ block: 'start' });
  $('watch-title').focus({ preventScroll: true });
}

function showWatch(video, fresh = false) {
  const done = video.status === 'completed';
  $('watch-title').textContent = `Video ${video.id}`;
  $('watch-title').tabIndex = -1;
  $('watch-prompt').textContent = video.prompt || '';
  const player = $('watch-player');
  const current = player.querySelector('video');
  if (done && (!current || current.dataset.id !== video.id)) {
    const media = el('video', {
      controls: true, preload: 'auto', playsinline: true, src: contentUrl(video.id),
      'aria-label': `Video: ${video.prompt}`, dataset: { id: video.id },
    });
    player.replaceChildren(media);
  } else if (!done) {
    player.replaceChildren();
  }
  let status = `${statusLabel(video)} · ${video.seconds} s · ${video.size} · ${video.fps} fps`;
  if (video.status === 'failed') status += ` · ${video.error?.message || ''}`;
  else if (!done) status += ` · ${video.progress}%`;
  $('watch-status').textContent = status;
  const download = $('download');
  download.href = contentUrl(video.id);
  download.setAttribute('download', `${video.id}.mp4`);
  for (const id of ['download', 'copy-link', 'remix-form', 'extend-form']) $(id).hidden = !done;
  if (fresh) {
    $('watch-error').textContent = '';
    $('watch-message').textContent = '';
    $('remix-prompt').value = video.prompt || '';
    $('extend-prompt').value = '';
    resetDelete();
  }
  const plan = video.plan;
  $('understood').hidden = !plan;
  if (plan) {
    $('understood-summary').textContent = plan.summary || '';
    $('understood-plan').textContent = JSON.stringify(plan.plan ?? plan, null, 2);
  }
  $('prov-model').textContent = video.model;
  $('prov-seed').textContent = video.seed ?? '—';
  $('prov-created').textContent = when(video.created_at);
  if (fresh) {
    $('prov-state').textContent = done ? 'Checking…' : 'Not signed yet (the video is not finished)';
    $('prov-signer').textContent = '—';
  }
}

async function verifyProvenance(video) {
  try {
    const response = await api(contentUrl(video.id), { raw: true });
    const size = Number(response.headers.get('content-length') || 0);
    if (size > MAX_VERIFY_BYTES) {
      response.body?.cancel();
      if (state.watching === video.id) {
        $('prov-state').textContent = `Not checked here: the file (${(size / 1048576).toFixed(0)} MB) is larger than an upload may be; run "openreel verify" on the download`;
      }
      return;
    }
    const blob = await response.blob();
    const form = new FormData();
    form.append('file', blob, `${video.id}.mp4`);
    const report = await api('/v1/provenance/verify', { method: 'POST', body: form });
    if (state.watching !== video.id) return;
    const words = {
      Trusted: 'Trusted: signed by this server',
      Valid: 'Valid: intact, signed by someone else',
      Invalid: 'Invalid: altered or broken',
      Missing: 'Missing: no credentials',
    };
    $('prov-state').textContent = words[report.status] || report.status;
    $('prov-signer').textContent = [report.signer, report.organization].filter(Boolean).join(', ') || '—';
    if (report.model) $('prov-model').textContent = `${report.model}${report.backend ? ` (${report.backend})` : ''}`;
    if (report.seed !== null && report.seed !== undefined) $('prov-seed').textContent = String(report.seed);
  } catch (error) {
    if (state.watching === video.id) $('prov-state').textContent = `Could not check: ${message(error)}`;
  }
}

function resetDelete() {
  const button = $('delete');
  button.textContent = 'Delete';
  button.dataset.armed = '';
}

function setupWatch() {
  $('watch-close').addEventListener('click', () => {
    state.watching = null;
    $('watch').hidden = true;
    $('watch-player').replaceChildren();
    if (location.hash) history.replaceState(null, '', location.pathname);
  });
  $('copy-link').addEventListener('click', async () => {
    const link = `${location.origin}/#video=${state.watching}`;
    try {
      await navigator.clipboard.writeText(link);
      $('watch-message').textContent = 'Link copied.';
    } catch {
      $('watch-message').textContent = `Link: ${link}`;
    }
  });
  $('delete').addEventListener('click', async () => {
    const button = $('delete');
    if (!button.dataset.armed) {
      button.dataset.armed = '1';
      button.textContent = 'Press again to delete';
      return;
    }
    const id = state.watching;
    try {
      await api(`/v1/videos/${encodeURIComponent(id)}`, { method: 'DELETE' });
      finishJob(id);
      removeTile(id);
      state.watching = null;
      $('watch').hidden = true;
      $('watch-player').replaceChildren();
      toast('Video deleted.');
      refreshUsage();
    } catch (error) {
      $('watch-error').textContent = message(error);
    } finally {
      resetDelete();
    }
  });
  $('remix-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const prompt = $('remix-prompt').value.trim();
    if (!prompt) {
      $('watch-error').textContent = 'Write the new prompt first.';
      return;
    }
    await startFrom(`/v1/videos/${encodeURIComponent(state.watching)}/remix`, { prompt });
  });
  $('extend-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = state.watching;
    const prompt = $('extend-prompt').value.trim() || $('watch-prompt').textContent;
    await startFrom('/v1/videos/extensions', { prompt, seconds: $('extend-seconds').value, video: { id } });
  });
}

async function startFrom(path, body) {
  $('watch-error').textContent = '';
  try {
    const video = await api(path, { method: 'POST', body });
    addJob(video);
    $('watch-message').textContent = `Started ${video.id}.`;
    setView('create');
    refreshUsage();
  } catch (error) {
    $('watch-error').textContent = message(error);
  }
}

// ----- history ---------------------------------------------------------------------------------

function resetHistory() {
  state.history = { cursor: null, hasMore: true, loading: false, ids: new Set() };
  $('gallery').replaceChildren();
  $('history-empty').hidden = true;
  $('history-more').textContent = '';
}

function scrubber(video, frame) {
  const [w, h] = video.size.split('x').map(Number);
  const overlay = el('div', { class: 'scrub' });
  frame.append(overlay);
  let layout = null;
  frame.addEventListener('mouseenter', () => {
    if (layout || overlay.dataset.loading) return;
    overlay.dataset.loading = '1';
    const sheet = new Image();
    sheet.onload = () => {
      const tileHeight = Math.max(2, Math.round((SPRITE_TILE_WIDTH * h) / w / 2) * 2);
      const columns = Math.max(1, Math.round(sheet.naturalWidth / SPRITE_TILE_WIDTH));
      const rows = Math.max(1, Math.round(sheet.naturalHeight / tileHeight));
      const frames = Math.round(Number(video.seconds) * video.fps);
      layout = { columns, rows, tiles: Math.min(SPRITE_TILES, frames, columns * rows) };
      overlay.style.backgroundImage = `url("${sheet.src}")`;
      overlay.style.backgroundSize = `${columns * 100}% ${rows * 100}%`;
      overlay.classList.add('ready');
    };
    sheet.src = contentUrl(video.id, 'spritesheet');
  });
  frame.addEventListener('mousemove', (event) => {
    if (!layout) return;
    const box = frame.getBoundingClientRect();
    const fraction = Math.min(0.999, Math.max(0, (event.clientX - box.left) / box.width));
    const index = Math.floor(fraction * layout.tiles);
    const column = index % layout.columns;
    const row = Math.floor(index / layout.columns);
    const x = layout.columns > 1 ? (column / (layout.columns - 1)) * 100 : 0;
    const y = layout.rows > 1 ? (row / (layout.rows - 1)) * 100 : 0;
    overlay.style.backgroundPosition = `${x}% ${y}%`;
  });
}

function tile(video) {
  const frame = el('span', { class: 'frame' });
  if (video.status === 'completed') {
    frame.append(el('img', { src: contentUrl(video.id, 'thumbnail'), alt: '', loading: 'lazy' }));
    scrubber(video, frame);
  }
  frame.append(el('span', { class: `badge ${video.status}` }, statusLabel(video)));
  const button = el('button', {
    type: 'button', class: 'tile', 'aria-label': `${video.prompt} (${statusLabel(video)})`,
    onclick: () => openVideoById(video.id),
  },
  frame,
  el('span', { class: 'caption' },
    el('span', {}, video.prompt || video.id),
    el('span', { class: 'muted' }, `${video.seconds} s · ${video.size} · ${when(video.created_at)}`)));
  return el('li', { dataset: { id: video.id, status: video.status } }, button);
}

function upsertTile(video) {
  const gallery = $('gallery');
  const existing = gallery.querySelector(`li[data-id="${CSS.escape(video.id)}"]`);
  if (existing) {
    if (existing.dataset.status !== video.status) existing.replaceWith(tile(video));
    return;
  }
  state.history.ids.add(video.id);
  gallery.prepend(tile(video));
  $('history-empty').hidden = true;
}

function removeTile(id) {
  $('gallery').querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
  state.history.ids.delete(id);
  $('history-empty').hidden = state.history.ids.size > 0 || state.history.hasMore;
}

async function loadMore() {
  const history = state.history;
  if (history.loading || !history.hasMore || !state.session) return;
  history.loading = true;
  $('history-more').textContent = 'Loading…';
  try {
    const params = new URLSearchParams({ limit: String(PAGE), order: 'desc' });
    if (history.cursor) params.set('after', history.cursor);
    const page = await api(`/v1/videos?${params}`);
    if (history !== state.history) return; // signed out meanwhile
    for (const video of page.data) {
      if (!history.ids.has(video.id)) {
        history.ids.add(video.id);
        $('gallery').append(tile(video));
      }
      if ((video.status === 'queued' || video.status === 'in_progress') && !state.jobs.has(video.id)) addJob(video);
    }
    history.cursor = page.last_id || history.cursor;
    history.hasMore = page.has_more;
    $('history-empty').hidden = history.ids.size > 0;
    $('history-more').textContent = history.hasMore ? '' : (history.ids.size ? 'That is everything.' : '');
  } catch (error) {
    $('history-more').textContent = `Could not load videos: ${message(error)}`;
  } finally {
    history.loading = false;
  }
  if (history.hasMore && state.view === 'history' && sentinelVisible()) loadMore();
}

function sentinelVisible() {
  const box = $('sentinel').getBoundingClientRect();
  return box.top < window.innerHeight + 200;
}

function setupHistory() {
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.view === 'history') loadMore();
  }, { rootMargin: '200px' });
  observer.observe($('sentinel'));
}

// ----- start -----------------------------------------------------------------------------------

async function boot() {
  setupSession();
  setupCompose();
  setupWatch();
  setupHistory();
  initAdmin();
  setInterval(() => { for (const job of state.jobs.values()) tickJob(job); }, 1000);
  window.addEventListener('hashchange', () => {
    const match = /^#video=([\w-]+)$/.exec(location.hash);
    if (match && state.session) openVideoById(match[1]);
  });
  updateCounter();
  try {
    const session = await currentSession();
    if (session.signed_in) await showStudio(session);
    else showSignIn(session.reason ? `Your session ended: ${session.reason}` : '');
  } catch (error) {
    showSignIn(message(error));
  }
}

boot();
