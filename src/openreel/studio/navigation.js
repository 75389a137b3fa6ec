// The studio's views (Create, History, Webhooks, Admin) and the tabs that switch between them. Which
// view shows is owned here; other modules ask through `current()` and change it with `show()`.

import { $ } from './dom.js';

const VIEWS = ['create', 'history', 'webhooks', 'admin'];

/**
 * Wires the tabs. `canAdmin()` says whether the Admin view may open; `onShow[view]()` runs
 * each time that view is shown (to load its data).
 */
export function createNavigation({ canAdmin, onShow = {} }) {
  let current = 'create';

  function show(view) {
    if (view === 'admin' && !canAdmin()) view = 'create';
    current = view;
    for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
    for (const tab of document.querySelectorAll('.tab')) {
      if (tab.dataset.view === view) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    onShow[view]?.();
  }

  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => show(tab.dataset.view));
  }
  return { show, current: () => current };
}
