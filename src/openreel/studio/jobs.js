// Videos in flight: a card per video with its progress bar, phase, elapsed time and estimate,
// following each one (api.js `follow`) until it finishes, fails or is cancelled. The cards and
// what is followed are owned here; what a new state means elsewhere (the history tile, the
// player, the usage line) is up to the callbacks the page passes in.

import { api, follow } from './api.js';
import { $, duration, el, errorText, statusLabel, toast } from './dom.js';

const PHASES = { queued: 'Waiting in the queue', rendering: 'Rendering frames', finalizing: 'Encoding and signing', done: 'Done' };

/**
 * The "In progress" list. `onChange(video)` gets every new state of a followed video;
 * `onCompleted(video)` when one is done; `onFailed(video, reason)` when one fails or is
 * cancelled.
 */
export function createJobs({ onChange, onCompleted, onFailed }) {
  const jobs = new Map(); // id -> { video, started, firstProgress, stop, el, bar, phase, times, cancel }

  function showSection() {
    $('jobs-section').hidden = jobs.size === 0;
  }

  /** Follows a queued or running video, showing its card (nothing if already followed). */
  function add(video) {
    if (jobs.has(video.id)) return;
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
    jobs.set(video.id, job);
    update(video);
    job.stop = follow(video.id, update, () => finish(video.id));
  }

  function update(video) {
    const job = jobs.get(video.id);
    if (!job) return;
    job.video = video;
    job.bar.value = video.progress;
    if (video.progress > 0 && job.firstProgress === null) job.firstProgress = { at: Date.now(), progress: video.progress };
    const phase = PHASES[video.phase] || video.phase;
    job.phase.textContent = `${statusLabel(video)} · ${phase} · ${video.progress}%`;
    tick(job);
    onChange(video);
    if (video.status === 'completed') {
      finish(video.id);
      onCompleted(video);
    } else if (video.status === 'failed') {
      job.stop?.();
      job.cancel.textContent = 'Dismiss';
      job.cancel.className = 'ghost';
      job.cancel.onclick = () => finish(video.id);
      const reason = video.error?.code === 'cancelled' ? 'Cancelled.' : `Failed: ${video.error?.message || 'unknown error'}`;
      job.times.textContent = reason;
      job.el.classList.add('failed');
      onFailed(video, reason);
    }
  }

  function tick(job) {
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

  /** Stops following a video and removes its card. */
  function finish(id) {
    const job = jobs.get(id);
    if (!job) return;
    job.stop?.();
    job.el.remove();
    jobs.delete(id);
    showSection();
  }

  async function cancelJob(id) {
    const job = jobs.get(id);
    if (job) job.cancel.disabled = true;
    try {
      update(await api(`/v1/videos/${encodeURIComponent(id)}/cancel`, { method: 'POST' }));
    } catch (error) {
      toast(errorText(error));
      if (job) job.cancel.disabled = false;
    }
  }

  /** Stops following everything and empties the list (signing out, or in again). */
  function clear() {
    for (const job of jobs.values()) job.stop?.();
    jobs.clear();
    $('jobs').replaceChildren();
    showSection();
  }

  setInterval(() => { for (const job of jobs.values()) tick(job); }, 1000);
  return { add, finish, clear };
}
