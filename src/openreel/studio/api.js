// The studio's only way to the server: the public /v1 API, authenticated by the session cookie.
// The access token is posted once to /v1/session and never kept; the CSRF token that comes back
// lives in this module's memory and rides on every state-changing request.

let csrf = null;
let onSignedOut = () => {};

/** An error answer from the API, carrying its envelope fields. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `request failed (${status})`);
    this.status = status;
    this.code = error?.code ?? null;
    this.param = error?.param ?? null;
    this.type = error?.type ?? null;
  }
}

/** Called (once per failure) when the server says the session is no longer valid. */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/**
 * One API call. `body` may be a plain object (sent as JSON) or FormData.
 * Resolves with the parsed JSON; rejects with ApiError carrying the server's message.
 */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { message: 'The server cannot be reached. Is it running?' });
  }
  let data = null;
  const type = response.headers.get('content-type') || '';
  if (type.startsWith('application/json')) data = await response.json();
  if (!response.ok) {
    const error = new ApiError(response.status, data?.error);
    if (response.status === 401 && path !== '/v1/session') onSignedOut(error);
    throw error;
  }
  return data;
}

/** The limits the server enforces (prompt length, images, uploads, spritesheets); no sign-in. */
export async function studioLimits() {
  return api('/v1/studio/limits');
}

/** Exchanges a token for the session cookie; returns the session. */
export async function signIn(token) {
  const session = await api('/v1/session', { method: 'POST', body: { token } });
  csrf = session.csrf_token;
  return session;
}

/** The current session (signed_in false when there is none). */
export async function currentSession() {
  const session = await api('/v1/session');
  csrf = session.csrf_token || null;
  return session;
}

/** Clears the session cookie. */
export async function signOut() {
  try {
    await api('/v1/session', { method: 'DELETE' });
  } finally {
    csrf = null;
  }
}

/** URL of a video's file (the cookie authenticates media elements). */
export function contentUrl(id, variant = 'video') {
  return `/v1/videos/${encodeURIComponent(id)}/content?variant=${variant}`;
}

const QUIET_MS = 5000; // a stream silent this long is checked by one plain GET

/**
 * Follows a video's progress: Server-Sent Events, falling back to polling every second if
 * the stream cannot be opened or breaks. A stream can also go quiet without breaking (a
 * buffering proxy, a stalled connection), so while it is silent the video is also read
 * every few seconds. `onVideo` gets every new state of the video object; returns a function
 * that stops following.
 */
export function follow(id, onVideo, onGone) {
  let stopped = false;
  let source = null;
  let timer = null;
  let watchdog = null;
  let heard = Date.now();
  const final = (v) => v.status === 'completed' || v.status === 'failed';
  const stop = () => {
    stopped = true;
    if (source) source.close();
    if (timer) clearTimeout(timer);
    if (watchdog) clearInterval(watchdog);
  };
  const poll = async () => {
    if (stopped) return;
    try {
      const video = await api(`/v1/videos/${encodeURIComponent(id)}`);
      onVideo(video);
      if (final(video)) return stop();
    } catch (error) {
      if (error.status === 404) {
        stop();
        return onGone(error);
      }
    }
    timer = setTimeout(poll, 1000);
  };
  if (typeof EventSource === 'undefined') {
    poll();
    return stop;
  }
  source = new EventSource(`/v1/videos/${encodeURIComponent(id)}/events`);
  watchdog = setInterval(async () => {
    if (stopped || Date.now() - heard < QUIET_MS) return;
    heard = Date.now();
    try {
      const video = await api(`/v1/videos/${encodeURIComponent(id)}`);
      if (stopped) return;
      onVideo(video);
      if (final(video)) stop();
    } catch (error) {
      if (error.status === 404) {
        stop();
        onGone(error);
      }
    }
  }, 1000);
  const handle = (event) => {
    heard = Date.now();
    const video = JSON.parse(event.data);
    onVideo(video);
    if (final(video)) stop();
  };
  for (const kind of ['snapshot', 'progress', 'completed', 'failed']) {
    source.addEventListener(kind, handle);
  }
  source.addEventListener('error', (event) => {
    if (stopped) return;
    source.close();
    clearInterval(watchdog);
    if (event.data) {
      // The server's own "error" event: the video was deleted while we watched.
      stop();
      onGone(new ApiError(404, JSON.parse(event.data).error));
      return;
    }
    poll(); // the stream broke or never opened: poll instead
  });
  return stop;
}
