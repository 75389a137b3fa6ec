// The public transparency page: reads GET /v1/transparency for the chosen period and shows its
// figures, the model cards and the policy in force. No sign-in, no cookies needed; everything is
// written with textContent, never as HTML, so nothing the server returns can run here.

const $ = (id) => document.getElementById(id);

/** A new element with a class (optional) and children (strings become text). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A published count: the number, or "fewer than N" for a hidden one. */
export function count(value) {
  if (value === null || value === undefined) return 'hidden';
  if (typeof value === 'object' && 'fewer_than' in value) return `fewer than ${value.fewer_than}`;
  return typeof value === 'number' ? value.toLocaleString('en') : String(value);
}

const day = (iso) => iso.slice(0, 10);
const words = (key) => key.replace(/_/g, ' ');

/** A term/value box of a figures list, tagged for tests and scrapers with data-figure. */
function figure(list, name, label, value) {
  const dd = el('dd', null, count(value));
  dd.dataset.figure = name;
  list.append(el('div', null, el('dt', null, label), dd));
}

/** A table row of cells; numbers are right-aligned and tagged with data-figure. */
function row(body, name, cells) {
  const tr = el('tr');
  cells.forEach((cell, i) => {
    const numeric = i > 0 && typeof cell !== 'string';
    const td = el('td', numeric ? 'n' : null, numeric ? count(cell) : cell);
    if (numeric && name) td.dataset.figure = `${name}.${i}`;
    tr.append(td);
  });
  body.append(tr);
}

function tally(id, rows, key, prefix) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  if (!rows.length) row(body, null, ['none']);
  for (const r of rows) row(body, `${prefix}.${r[key]}`, [words(r[key]), r.count]);
}

function showFigures(report) {
  $('threshold').textContent = String(report.threshold);
  $('threshold-less').textContent = String(Math.max(report.threshold - 1, 0));
  $('period-text').textContent =
    `From ${report.period.since} to ${report.period.until} (${report.period.days} days).`;

  const videos = $('videos');
  videos.replaceChildren();
  for (const [action, n] of Object.entries(report.videos)) figure(videos, `videos.${action}`, words(action), n);
  figure(videos, 'seconds_made', 'seconds made', report.seconds_made);

  const made = $('made').tBodies[0];
  made.replaceChildren();
  if (!report.made.length) row(made, null, ['none']);
  for (const m of report.made) {
    row(made, `made.${m.model}`, [m.model, m.backend, m.videos, m.seconds]);
  }

  tally('refusals-check', report.refusals.by_check, 'check', 'refused');
  tally('refusals-category', report.refusals.by_category, 'category', 'category');
  tally('refusals-moderation', report.refusals.by_moderation_check, 'check', 'moderation');

  const access = $('access');
  access.replaceChildren();
  figure(access, 'artists_opted_out', "artists' opt-outs in force", report.artists_opted_out);
  for (const [kind, n] of Object.entries(report.tokens_revoked)) {
    figure(access, `tokens_revoked.${kind}`, `tokens revoked ${words(kind)}`, n);
  }
  figure(access, 'pauses.private', 'pauses of one person or token', report.pauses.of_one_person_or_token);
  const lookups = report.provenance_lookups;
  figure(access, 'lookups.lookups', 'provenance lookups answered', lookups.lookups);
  figure(access, 'lookups.made_here', '… made here', lookups.made_here);
  figure(access, 'lookups.verifications', 'credentials checked', lookups.verifications);

  const pauses = $('pauses');
  pauses.replaceChildren();
  if (!report.pauses.public.length) pauses.append(el('li', 'muted', 'none in this period'));
  for (const p of report.pauses.public) {
    const what = p.scope === 'all' ? 'Everything paused' : `Model ${p.model} paused`;
    pauses.append(el('li', null, `${p.at}: ${what}. Reason given: ${p.reason}`));
  }
}

function showModels(models) {
  const box = $('models');
  box.replaceChildren();
  for (const m of models) {
    const card = m.card;
    const dl = el('dl');
    const fact = (term, value) => dl.append(el('dt', null, term), el('dd', null, value));
    fact('kind', card.kind);
    fact('made by', card.maker);
    if (card.served_by) fact('run by', card.served_by);
    fact('licence', card.licence);
    fact('training data', card.training_data);
    fact('sound', card.sound ? 'yes' : 'no');
    const limits = el('ul');
    for (const line of card.limits) limits.append(el('li', null, line));
    fact('limits', limits);
    if (card.source) {
      const link = el('a', null, card.source);
      link.href = card.source;
      link.rel = 'noopener noreferrer';
      fact('described at', link);
    }
    const article = el('article', 'model', el('h3', null, m.id), dl);
    article.dataset.model = m.id;
    box.append(article);
  }
}

function showPolicy(policy) {
  const moderation = policy.moderation;
  $('moderation-state').textContent = moderation.enabled
    ? `Every prompt is checked before anything is made (semantic check: ${moderation.semantic_check}).`
    : 'Prompt moderation is turned off on this server.';
  const body = $('categories').tBodies[0];
  body.replaceChildren();
  for (const c of moderation.categories) row(body, null, [words(c.category), c.reason]);

  const prompts = policy.prompts;
  $('retention').textContent = `Retention: ${prompts.retention}. ${prompts.meaning} ` +
    (prompts.in_credentials === 'prompt'
      ? "Each video's public credentials include its prompt."
      : "Each video's public credentials carry only a SHA-256 hash of its prompt.");

  const cert = $('certificate');
  cert.replaceChildren();
  const signing = policy.provenance;
  if (!signing.signing) {
    cert.append(el('p', null, 'Videos are not signed on this server.'));
  } else {
    const c = signing.certificate;
    const link = el('a', 'button', 'Download the certificate');
    link.href = '/v1/transparency/certificate.pem';
    link.id = 'certificate-link';
    const fingerprint = el('p', 'hash', `SHA-256 fingerprint: ${c.sha256}`);
    fingerprint.id = 'fingerprint';
    cert.append(
      el('p', null, `Every video is signed with C2PA content credentials by ${c.signer}` +
        `${c.organization ? ` (${c.organization})` : ''}, under the certificate ${c.subject}. ` +
        'Add it to a C2PA verifier\'s trust list to check a video offline.'),
      fingerprint, link);
  }

  const audit = $('audit');
  audit.replaceChildren();
  const head = policy.audit.head;
  const headText = el('p', 'hash', head
    ? `Newest row ${head.seq}, hash ${head.row_hash}`
    : 'The log is empty.');
  headText.id = 'audit-head';
  const verified = policy.audit.last_verified;
  const verifiedText = el('p', null, verified
    ? `Last verified ${verified.at}, up to row ${verified.seq}.`
    : 'Not verified yet.');
  verifiedText.id = 'audit-verified';
  audit.append(el('p', null, 'Each row of the audit log is chained to the one before it by a SHA-256 hash.'),
    headText, verifiedText);
}

function query(form) {
  const params = new URLSearchParams();
  if (form.since.value) params.set('since', form.since.value);
  if (form.until.value) params.set('until', form.until.value);
  return params.toString();
}

async function load(search) {
  const response = await fetch(`/v1/transparency${search ? `?${search}` : ''}`, {
    credentials: 'omit', headers: { Accept: 'application/json' },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  return body;
}

async function show(search) {
  const report = await load(search);
  showFigures(report);
  showModels(report.models);
  showPolicy(report.policy);
  const form = $('period-form');
  form.since.value = day(report.period.since);
  // The API's "until" is exclusive; a date in the form means "up to the end of that day".
  form.until.value = day(new Date(Date.parse(report.period.until) - 1).toISOString());
  // The export covers exactly the period shown.
  const exact = new URLSearchParams({ since: report.period.since, until: report.period.until });
  $('csv').href = `/v1/transparency.csv?${exact}`;
  $('report').hidden = false;
}

async function start() {
  const form = $('period-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    $('period-error').textContent = '';
    try {
      await show(query(form));
    } catch (error) {
      $('period-error').textContent = String(error.message || error);
    }
  });
  try {
    await show(new URLSearchParams(window.location.search).toString());
  } catch (error) {
    $('load-error').textContent = `The report could not be loaded: ${error.message || error}`;
    $('load-error').hidden = false;
  } finally {
    $('loading').hidden = true;
  }
}

start();
