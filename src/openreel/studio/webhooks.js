// The Webhooks view: your endpoints (an admin sees everyone's), adding one (its secret is shown
// once, here, and never again), rotating its secret, deleting it, and each endpoint's
// deliveries with their attempts and a "Send again". Everything goes through /v1/webhooks.

import { api } from './api.js';
import { $, el, errorText, when } from './dom.js';

let selected = null;

async function run(action) {
  $('webhooks-error').textContent = '';
  try {
    await action();
  } catch (error) {
    $('webhooks-error').textContent = errorText(error);
  }
}

function showSecret(text) {
  const box = $('webhook-secret');
  box.textContent = text;
  box.hidden = false;
}

function endpointItem(hook) {
  const state = hook.status === 'disabled' ? `disabled: ${hook.disabled_reason}` : 'enabled';
  const actions = [
    el('button', { type: 'button', onclick: () => run(() => loadDeliveries(hook)) }, 'Deliveries'),
    el('button', {
      type: 'button',
      onclick: () => run(async () => {
        const rotated = await api(`/v1/webhooks/${encodeURIComponent(hook.id)}/rotate`, { method: 'POST' });
        showSecret(`New secret for ${rotated.url} (shown once, copy it now; the old one also signs until ${when(rotated.secret_rotated_until)}): ${rotated.secret}`);
        await loadWebhooks();
      }),
    }, 'Rotate secret'),
  ];
  if (hook.status === 'disabled') {
    actions.push(el('button', {
      type: 'button',
      onclick: () => run(async () => {
        await api(`/v1/webhooks/${encodeURIComponent(hook.id)}/enable`, { method: 'POST' });
        await loadWebhooks();
      }),
    }, 'Enable'));
  }
  actions.push(el('button', {
    type: 'button',
    class: 'danger',
    onclick: () => run(async () => {
      await api(`/v1/webhooks/${encodeURIComponent(hook.id)}`, { method: 'DELETE' });
      if (selected?.id === hook.id) clearDeliveries();
      await loadWebhooks();
    }),
  }, 'Delete'));
  return el('li', { dataset: { id: hook.id } },
    el('span', {}, `${hook.url} — ${hook.events.join(', ')} — ${state}`), ...actions);
}

/** Loads the endpoint list (called whenever the Webhooks view opens). */
export async function loadWebhooks() {
  await run(async () => {
    const list = await api('/v1/webhooks');
    const items = list.data.map(endpointItem);
    if (!items.length) items.push(el('li', { class: 'muted' }, 'No webhooks yet.'));
    $('webhooks').replaceChildren(...items);
    if (selected) {
      const still = list.data.find((hook) => hook.id === selected.id);
      if (still) await loadDeliveries(still);
      else clearDeliveries();
    }
  });
}

function clearDeliveries() {
  selected = null;
  $('deliveries-card').hidden = true;
  $('deliveries').replaceChildren();
}

function cell(text) {
  return el('td', {}, text ?? '—');
}

/** A time for the deliveries table: the clock alone today, the date too before. */
function short(epoch) {
  if (!epoch) return '—';
  const date = new Date(epoch * 1000);
  return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

function deliveryRow(hook, d) {
  const last = d.history.at(-1);
  const tr = el('tr', { dataset: { id: d.id } },
    cell(short(d.created_at)), cell(d.type), cell(d.video_id), cell(d.status), cell(String(d.attempts)),
    cell(last ? `${last.status_code ?? last.error} in ${Math.round(last.latency_ms)} ms` : null),
    cell(d.status === 'pending' ? short(d.next_attempt_at) : null));
  tr.append(el('td', {}, el('button', {
    type: 'button',
    onclick: () => run(async () => {
      await api(`/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: 'POST' });
      await loadDeliveries(hook);
    }),
  }, 'Send again')));
  return tr;
}

async function loadDeliveries(hook) {
  selected = hook;
  const list = await api(`/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries`);
  $('deliveries-title').textContent = `Deliveries to ${hook.url}`;
  $('deliveries-card').hidden = false;
  const rows = list.data.map((d) => deliveryRow(hook, d));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '8', class: 'muted' }, 'Nothing sent yet.')));
  $('deliveries').replaceChildren(...rows);
}

/** Wires the add form once. */
export function initWebhooks() {
  $('webhook-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const url = $('webhook-url').value.trim();
    const events = [...document.querySelectorAll('#webhook-form input[name=event]:checked')].map((box) => box.value);
    if (!url) {
      $('webhooks-error').textContent = 'Give the URL that should receive the notices.';
      return;
    }
    if (!events.length) {
      $('webhooks-error').textContent = 'Choose at least one event.';
      return;
    }
    run(async () => {
      const hook = await api('/v1/webhooks', { method: 'POST', body: { url, events } });
      showSecret(`Secret for ${hook.url} (shown once, copy it now): ${hook.secret}`);
      $('webhook-url').value = '';
      await loadWebhooks();
    });
  });
}
