// Small helpers every studio module shares: finding and building elements, the toast, and the
// words the page uses for times, states and errors. Nothing here keeps state but the toast's
// timer.

import { ApiError } from './api.js';

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element: `props` become attributes (`class`, `dataset` and `on...` handlers too). */
export function el(tag, props = {}, ...children) {
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

let toastTimer = null;

/** Shows a short message at the bottom of the page for a moment. */
export function toast(text) {
  const box = $('toast');
  box.textContent = text;
  box.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove('show'), 2500);
}

/** A length of time for people: "42 s" or "3 min 05 s". */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** A Unix time as local date and time. */
export function when(epoch) {
  return epoch ? new Date(epoch * 1000).toLocaleString() : '—';
}

/** A byte count in whole (or one-decimal) megabytes, as the limits are written. */
export function megabytes(bytes) {
  const mb = bytes / 1048576;
  return Number.isInteger(mb) ? String(mb) : mb.toFixed(1);
}

/** What to tell a person about a failure. */
export function errorText(error) {
  if (error instanceof ApiError) return error.message;
  return String(error?.message || error);
}

/** A video's state in words ("cancelled" rather than "failed" when it was stopped). */
export function statusLabel(video) {
  if (video.status === 'failed' && video.error?.code === 'cancelled') return 'cancelled';
  return video.status.replace('_', ' ');
}
