// The watch panel: the player for one video, its download, link, delete, remix, extend and
// edit controls (extend and edit take an uploaded file instead of the open video when one is
// chosen), what the engine understood, and the provenance panel, whose C2PA check runs on the
// server by the video's id (GET /v1/videos/{id}/provenance): the page never downloads the file
// to upload it again. Which video is open is owned here (`watching()`).

import { api, contentUrl } from './api.js';
import { $, el, errorText, statusLabel, toast, when } from './dom.js';

const VERDICTS = {
  Trusted: 'Trusted: signed by this server',
  Valid: 'Valid: intact, signed by someone else',
  Invalid: 'Invalid: altered or broken',
  Missing: 'Missing: no credentials',
};

/**
 * Wires the panel. `limits` is the server's /v1/studio/limits; `onStarted(video)` gets a remix
 * or extension the panel started; `onDeleted(id)` a video it deleted; `showCreate()` brings the
 * Create view forward (where the panel is shown).
 */
export function createWatch({ limits, onStarted, onDeleted, showCreate }) {
  let watching = null;

  function show(video, fresh = false) {
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
    let status = `${statusLabel(video)} · ${video.seconds} s · ${video.size} · ${video.fps} fps · ${video.audio ? 'sound' : 'silent'}`;
    if (video.status === 'failed') status += ` · ${video.error?.message || ''}`;
    else if (!done) status += ` · ${video.progress}%`;
    $('watch-status').textContent = status;
    const download = $('download');
    download.href = contentUrl(video.id);
    download.setAttribute('download', `${video.id}.mp4`);
    for (const id of ['download', 'copy-link', 'remix-form', 'extend-form', 'edit-form']) {
      $(id).hidden = !done;
    }
    if (fresh) {
      $('watch-error').textContent = '';
      $('watch-message').textContent = '';
      $('remix-prompt').value = video.prompt || '';
      $('extend-prompt').value = '';
      $('edit-prompt').value = '';
      $('extend-file').value = '';
      $('edit-file').value = '';
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

  async function checkProvenance(video) {
    try {
      const report = await api(`/v1/videos/${encodeURIComponent(video.id)}/provenance`);
      if (watching !== video.id) return;
      $('prov-state').textContent = VERDICTS[report.status] || report.status;
      $('prov-signer').textContent = [report.signer, report.organization].filter(Boolean).join(', ') || '—';
      if (report.model) $('prov-model').textContent = `${report.model}${report.backend ? ` (${report.backend})` : ''}`;
      if (report.seed !== null && report.seed !== undefined) $('prov-seed').textContent = String(report.seed);
    } catch (error) {
      if (watching === video.id) $('prov-state').textContent = `Could not check: ${errorText(error)}`;
    }
  }

  /** Opens the panel on `video` (and checks its credentials once it is finished). */
  function open(video) {
    watching = video.id;
    show(video, true);
    const panel = $('watch');
    panel.hidden = false;
    if (video.status === 'completed') checkProvenance(video);
    showCreate();
    panel.scrollIntoView({ block: 'start' });
    $('watch-title').focus({ preventScroll: true });
  }

  /** Reads a video by id and opens the panel on it (a toast says why not). */
  async function openById(id) {
    try {
      open(await api(`/v1/videos/${encodeURIComponent(id)}`));
    } catch (error) {
      toast(errorText(error));
    }
  }

  /** Shows a new state of `video` if it is the one open. */
  function update(video) {
    if (watching === video.id) show(video);
  }

  function close() {
    watching = null;
    $('watch').hidden = true;
    $('watch-player').replaceChildren();
  }

  function resetDelete() {
    const button = $('delete');
    button.textContent = 'Delete';
    button.dataset.armed = '';
  }

  async function startFrom(path, body) {
    $('watch-error').textContent = '';
    try {
      const video = await api(path, { method: 'POST', body });
      $('watch-message').textContent = `Started ${video.id}.`;
      onStarted(video);
    } catch (error) {
      $('watch-error').textContent = errorText(error);
    }
  }

  for (const id of ['remix-prompt', 'extend-prompt', 'edit-prompt']) {
    $(id).maxLength = limits.prompt_max_chars;
  }

  /** The body of an edit or extension: the chosen file as a form, else the open video's id. */
  function sourceBody(fileInput, fields) {
    const file = $(fileInput).files[0];
    if (!file) return { ...fields, video: { id: watching } };
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append('video', file, file.name);
    return form;
  }
  $('watch-close').addEventListener('click', () => {
    close();
    if (location.hash) history.replaceState(null, '', location.pathname);
  });
  $('copy-link').addEventListener('click', async () => {
    const link = `${location.origin}/#video=${watching}`;
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
    const id = watching;
    try {
      await api(`/v1/videos/${encodeURIComponent(id)}`, { method: 'DELETE' });
      close();
      toast('Video deleted.');
      onDeleted(id);
    } catch (error) {
      $('watch-error').textContent = errorText(error);
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
    await startFrom(`/v1/videos/${encodeURIComponent(watching)}/remix`, { prompt });
  });
  $('extend-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const prompt = $('extend-prompt').value.trim() || $('watch-prompt').textContent;
    const body = sourceBody('extend-file', { prompt, seconds: $('extend-seconds').value });
    await startFrom('/v1/videos/extensions', body);
  });
  $('edit-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const prompt = $('edit-prompt').value.trim();
    if (!prompt) {
      $('watch-error').textContent = 'Say what to change first, e.g. "at night".';
      return;
    }
    await startFrom('/v1/videos/edits', sourceBody('edit-file', { prompt }));
  });

  return { open, openById, update, watching: () => watching };
}
