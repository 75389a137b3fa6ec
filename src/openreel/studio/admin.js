// The admin view: tokens, pause switches, the artists' opt-out registry and the audit log,
// all through /v1/admin/... (the server refuses non-admins whatever this page shows).

import { api } from './api.js';
import { $, when } from './dom.js';

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text ?? '—';
  return td;
}

function button(label, onClick, className = '') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (className) b.className = className;
  b.addEventListener('click', onClick);
  return b;
}

async function run(action) {
  $('admin-error').textContent = '';
  try {
    await action();
  } catch (error) {
    $('admin-error').textContent = error.message;
  }
}

async function loadTokens() {
  const list = await api('/v1/admin/tokens');
  const rows = list.data.slice().reverse().map((t) => {
    const tr = document.createElement('tr');
    const revoked = t.revoked_at !== null;
    const expired = t.expires_at !== null && t.expires_at * 1000 < Date.now();
    tr.append(cell(t.name), cell(`${t.prefix}…`), cell(t.scopes.join(' ')), cell(when(t.last_used_at)),
      cell(revoked ? 'revoked' : expired ? 'expired' : 'active'));
    const actions = document.createElement('td');
    if (!revoked) {
      actions.append(button('Revoke', () => run(async () => {
        await api(`/v1/admin/tokens/${encodeURIComponent(t.id)}/revoke`, { method: 'POST' });
        await loadTokens();
      }), 'danger'));
    }
    tr.append(actions);
    return tr;
  });
  $('tokens').replaceChildren(...rows);
}

async function loadPauses() {
  const list = await api('/v1/admin/pauses');
  const items = list.data.map((p) => {
    const li = document.createElement('li');
    const text = document.createElement('span');
    text.textContent = `${p.scope}${p.target ? ` ${p.target}` : ''}: ${p.reason} (since ${when(p.created_at)})`;
    li.append(text, button('Resume', () => run(async () => {
      await api('/v1/admin/pauses/resume', { method: 'POST', body: { scope: p.scope, target: p.target } });
      await loadPauses();
    })));
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.textContent = 'Nothing is paused.';
    li.className = 'muted';
    items.push(li);
  }
  $('pauses').replaceChildren(...items);
}

async function loadArtists() {
  const list = await api('/v1/admin/artists');
  const items = list.data.map((a) => {
    const li = document.createElement('li');
    const text = document.createElement('span');
    const aliases = a.aliases.length ? ` (${a.aliases.join(', ')})` : '';
    text.textContent = `${a.name}${aliases}: ${a.status}${a.allow_style ? ', style allowed' : ''}`;
    li.append(text);
    if (a.status === 'pending') {
      li.append(button('Approve', () => run(async () => {
        await api(`/v1/admin/artists/${encodeURIComponent(a.id)}`, { method: 'PATCH', body: { status: 'active' } });
        await loadArtists();
      })));
    }
    li.append(button('Remove', () => run(async () => {
      await api(`/v1/admin/artists/${encodeURIComponent(a.id)}`, { method: 'DELETE' });
      await loadArtists();
    }), 'danger'));
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.textContent = 'No artists registered.';
    li.className = 'muted';
    items.push(li);
  }
  $('artists').replaceChildren(...items);
}

async function loadAudit() {
  const list = await api('/v1/admin/audit?limit=50');
  $('audit').replaceChildren(...list.data.map((r) => {
    const tr = document.createElement('tr');
    tr.append(cell(String(r.seq)), cell(new Date(r.ts * 1000).toLocaleString()), cell(r.action),
      cell(r.outcome), cell(r.actor_id), cell(r.target_id));
    return tr;
  }));
}

/** Loads every admin panel (called whenever the Admin view opens). */
export async function loadAdmin() {
  await run(() => Promise.all([loadTokens(), loadPauses(), loadArtists(), loadAudit()]));
}

/** Wires the admin forms once. */
export function initAdmin() {
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('token-name').value.trim();
    if (!name) {
      $('admin-error').textContent = 'Name the person the token is for.';
      return;
    }
    run(async () => {
      const issued = await api('/v1/admin/tokens', { method: 'POST', body: { name, admin: $('token-admin').checked } });
      const secret = $('token-secret');
      secret.textContent = `New token for ${issued.name} (shown once, copy it now): ${issued.token}`;
      secret.hidden = false;
      $('token-name').value = '';
      await Promise.all([loadTokens(), loadAudit()]);
    });
  });
  $('pause-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const reason = $('pause-reason').value.trim();
    if (!reason) {
      $('admin-error').textContent = 'Give a reason for the pause.';
      return;
    }
    run(async () => {
      await api('/v1/admin/pauses', {
        method: 'POST',
        body: { scope: $('pause-scope').value, target: $('pause-target').value.trim(), reason },
      });
      $('pause-reason').value = '';
      await Promise.all([loadPauses(), loadAudit()]);
    });
  });
  $('artist-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('artist-name').value.trim();
    if (!name) return;
    run(async () => {
      await api('/v1/admin/artists', { method: 'POST', body: { name } });
      $('artist-name').value = '';
      await Promise.all([loadArtists(), loadAudit()]);
    });
  });
}
