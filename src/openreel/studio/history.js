// The History view: the person's videos, newest first, read from the server a page at a time
// (GET /v1/videos with its cursor) as the list scrolls. The paging state and the tiles are
// owned here; the page says what opening a tile and finding a running video mean.

import { api, contentUrl } from './api.js';
import { $, el, errorText, statusLabel, when } from './dom.js';
import { addScrubber } from './scrub.js';

const PAGE = 12;

function freshPaging() {
  return { cursor: null, hasMore: true, loading: false, ids: new Set() };
}

/**
 * Wires the list. `limits` is the server's /v1/studio/limits (for the spritesheets);
 * `isSignedIn()` and `isShown()` gate loading; `onOpen(id)` opens a tile's video;
 * `onActive(video)` gets every queued or running video a page brings.
 */
export function createHistory({ limits, isSignedIn, isShown, onOpen, onActive }) {
  let paging = freshPaging();

  function tile(video) {
    const frame = el('span', { class: 'frame' });
    if (video.status === 'completed') {
      frame.append(el('img', { src: contentUrl(video.id, 'thumbnail'), alt: '', loading: 'lazy' }));
      addScrubber(video, frame, limits.spritesheet);
    }
    frame.append(el('span', { class: `badge ${video.status}` }, statusLabel(video)));
    const button = el('button', {
      type: 'button', class: 'tile', 'aria-label': `${video.prompt} (${statusLabel(video)})`,
      onclick: () => onOpen(video.id),
    },
    frame,
    el('span', { class: 'caption' },
      el('span', {}, video.prompt || video.id),
      el('span', { class: 'muted' }, `${video.seconds} s · ${video.size} · ${when(video.created_at)}`)));
    return el('li', { dataset: { id: video.id, status: video.status } }, button);
  }

  /** Empties the list; the next `loadMore()` starts from the newest video again. */
  function reset() {
    paging = freshPaging();
    $('gallery').replaceChildren();
    $('history-empty').hidden = true;
    $('history-more').textContent = '';
  }

  /** Adds `video`'s tile at the top, or redraws it when its status changed. */
  function upsert(video) {
    const gallery = $('gallery');
    const existing = gallery.querySelector(`li[data-id="${CSS.escape(video.id)}"]`);
    if (existing) {
      if (existing.dataset.status !== video.status) existing.replaceWith(tile(video));
      return;
    }
    paging.ids.add(video.id);
    gallery.prepend(tile(video));
    $('history-empty').hidden = true;
  }

  /** Removes a video's tile. */
  function remove(id) {
    $('gallery').querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
    paging.ids.delete(id);
    $('history-empty').hidden = paging.ids.size > 0 || paging.hasMore;
  }

  function sentinelVisible() {
    const box = $('sentinel').getBoundingClientRect();
    return box.top < window.innerHeight + 200;
  }

  /** Reads the next page, if there is one and none is being read. */
  async function loadMore() {
    const page = paging;
    if (page.loading || !page.hasMore || !isSignedIn()) return;
    page.loading = true;
    $('history-more').textContent = 'Loading…';
    try {
      const params = new URLSearchParams({ limit: String(PAGE), order: 'desc' });
      if (page.cursor) params.set('after', page.cursor);
      const answer = await api(`/v1/videos?${params}`);
      if (page !== paging) return; // signed out (or in again) meanwhile
      for (const video of answer.data) {
        if (!page.ids.has(video.id)) {
          page.ids.add(video.id);
          $('gallery').append(tile(video));
        }
        if (video.status === 'queued' || video.status === 'in_progress') onActive(video);
      }
      page.cursor = answer.last_id || page.cursor;
      page.hasMore = answer.has_more;
      $('history-empty').hidden = page.ids.size > 0;
      $('history-more').textContent = page.hasMore ? '' : (page.ids.size ? 'That is everything.' : '');
    } catch (error) {
      $('history-more').textContent = `Could not load videos: ${errorText(error)}`;
    } finally {
      page.loading = false;
    }
    if (page.hasMore && isShown() && sentinelVisible()) loadMore();
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && isShown()) loadMore();
  }, { rootMargin: '200px' });
  observer.observe($('sentinel'));

  return { reset, loadMore, upsert, remove };
}
