// OpenReel Studio: sign in, compose, follow, watch and browse videos through the public API.
// Everything the page shows comes from the server (GET /v1/videos...), so history survives
// reloads and restarts; the page keeps no token and nothing in local storage.
//
// This module only starts the page: it reads the server's limits, builds each part (each owns
// its own state) and wires them together through the callbacks below.

import { studioLimits } from './api.js';
import { initAdmin, loadAdmin } from './admin.js';
import { createCharacters } from './characters.js';
import { createCompose } from './compose.js';
import { $, errorText, toast } from './dom.js';
import { createHistory } from './history.js';
import { createJobs } from './jobs.js';
import { createNavigation } from './navigation.js';
import { createSession } from './session.js';
import { refreshUsage } from './usage.js';
import { createWatch } from './watch.js';
import { initWebhooks, loadWebhooks } from './webhooks.js';

const VIDEO_HASH = /^#video=([\w-]+)$/;

function start(limits) {
  const session = createSession({
    onSignedIn: async () => {
      gallery.reset();
      jobs.clear();
      navigation.show('create');
      await Promise.all([
        compose.loadModels(), refreshUsage(), gallery.loadMore(), characters.load(),
      ]);
      const match = VIDEO_HASH.exec(location.hash);
      if (match) watch.openById(match[1]);
    },
    onSignedOut: () => jobs.clear(),
  });
  const navigation = createNavigation({
    canAdmin: session.isAdmin,
    onShow: { history: () => gallery.loadMore(), webhooks: loadWebhooks, admin: loadAdmin },
  });
  const jobs = createJobs({
    onChange: (video) => {
      gallery.upsert(video);
      watch.update(video);
    },
    onCompleted: (video) => {
      refreshUsage();
      // Open it where the person is composing; elsewhere, do not pull them away.
      if (navigation.current() === 'create') watch.open(video);
      else toast('A video is ready: open it from History.');
    },
    onFailed: (video, reason) => {
      if (video.error?.code !== 'cancelled') compose.showError(reason);
      refreshUsage();
    },
  });
  const compose = createCompose({
    limits,
    onCreated: (video) => {
      jobs.add(video);
      refreshUsage();
    },
  });
  const watch = createWatch({
    limits,
    onStarted: (video) => {
      jobs.add(video);
      navigation.show('create');
      refreshUsage();
    },
    onDeleted: (id) => {
      jobs.finish(id);
      gallery.remove(id);
      refreshUsage();
    },
    showCreate: () => {
      if (navigation.current() !== 'create') navigation.show('create');
    },
  });
  const gallery = createHistory({
    limits,
    isSignedIn: session.isSignedIn,
    isShown: () => navigation.current() === 'history',
    onOpen: (id) => watch.openById(id),
    onActive: (video) => jobs.add(video),
  });
  const characters = createCharacters();
  initAdmin();
  initWebhooks();
  window.addEventListener('hashchange', () => {
    const match = VIDEO_HASH.exec(location.hash);
    if (match && session.isSignedIn()) watch.openById(match[1]);
  });
  return session;
}

async function boot() {
  let limits;
  try {
    limits = await studioLimits();
  } catch (error) {
    $('loading').textContent = `The studio could not start: ${errorText(error)} Reload the page to try again.`;
    return;
  }
  await start(limits).resume();
}

boot();
