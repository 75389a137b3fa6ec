// Hover-scrubbing a finished video's tile through its spritesheet: the sheet is fetched on the
// first hover and cut into tiles with the geometry the server reports (/v1/studio/limits), so
// the page and media/previews.py always agree on it.

import { contentUrl } from './api.js';
import { el } from './dom.js';

/** Adds a scrub overlay to `frame`, a finished `video`'s tile; `sheet` is the geometry. */
export function addScrubber(video, frame, sheet) {
  const [w, h] = video.size.split('x').map(Number);
  const overlay = el('div', { class: 'scrub' });
  frame.append(overlay);
  let layout = null;
  frame.addEventListener('mouseenter', () => {
    if (layout || overlay.dataset.loading) return;
    overlay.dataset.loading = '1';
    const image = new Image();
    image.onload = () => {
      // The tile height follows the video's aspect ratio, rounded to an even number of pixels.
      const tileHeight = Math.max(2, Math.round((sheet.tile_width * h) / w / 2) * 2);
      const columns = Math.max(1, Math.round(image.naturalWidth / sheet.tile_width));
      const rows = Math.max(1, Math.round(image.naturalHeight / tileHeight));
      const frames = Math.round(Number(video.seconds) * video.fps);
      layout = { columns, rows, tiles: Math.min(sheet.tiles, frames, columns * rows) };
      overlay.style.backgroundImage = `url("${image.src}")`;
      overlay.style.backgroundSize = `${columns * 100}% ${rows * 100}%`;
      overlay.classList.add('ready');
    };
    image.src = contentUrl(video.id, 'spritesheet');
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
