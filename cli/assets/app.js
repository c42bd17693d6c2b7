// leaseq dashboard: plain JS over the JSON API in spec/http-api.md. Every value from Redis goes
// into the page through textContent (never innerHTML), so item data is always shown as text.
'use strict';
const main = document.getElementById('main');
let config = { read_only: true };
let source = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const enc = encodeURIComponent;
async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
function post(path, body) {
  return api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
}
function age(ms) {
  if (ms == null) return '-';
  if (ms < 1000) return ms + 'ms';
  if (ms < 120000) return Math.floor(ms / 1000) + 's';
  if (ms < 7200000) return Math.floor(ms / 60000) + 'm';
  return Math.floor(ms / 3600000) + 'h';
}
function dataText(item) {
  return item.encoding === 'json' ? JSON.stringify(item.data) : String(item.data);
}
function table(headers, rows, id) {
  return el('table', id ? { id } : {},
    el('thead', {}, el('tr', {}, ...headers.map(h => el('th', {}, h)))),
    el('tbody', {}, ...rows));
}
function numCell(value, name) { return el('td', { class: 'n', 'data-col': name }, value); }
function showError(err) { main.prepend(el('p', { class: 'error', id: 'error' }, String(err.message || err))); }

function chart(perMinute) {
  const width = 600, height = 120, n = perMinute.completed.length;
  const max = Math.max(1, ...perMinute.completed, ...perMinute.failed);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', width); svg.setAttribute('height', height + 14); svg.id = 'chart';
  for (const series of ['completed', 'failed']) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('class', series);
    line.setAttribute('points', perMinute[series].map((v, i) =>
      `${(i * width / Math.max(1, n - 1)).toFixed(1)},${(height - v * height / max).toFixed(1)}`).join(' '));
    svg.append(line);
  }
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', 0); label.setAttribute('y', height + 12);
  label.textContent = `per minute, last hour (max ${max}): green completed, red failed`;
  svg.append(label);
  return svg;
}

function live(render) {
  if (source) source.close();
  source = new EventSource('/api/events');
  source.addEventListener('queues', event => {
    document.getElementById('live').textContent = 'live ' + new Date().toLocaleTimeString();
    render(JSON.parse(event.data));
  });
}

function queueList() {
  main.replaceChildren(el('h2', {}, 'Queues'), el('div', { id: 'queues' }, 'loading…'), el('div', { id: 'throughput' }));
  const render = overview => {
    const rows = overview.queues.map(q => el('tr', { 'data-queue': q.name },
      el('td', {}, el('a', { href: '#/queue/' + enc(q.name) }, q.name)),
      numCell(q.queued, 'queued'), numCell(q.processing, 'processing'), numCell(q.delayed, 'delayed'),
      el('td', { class: 'n', 'data-col': 'dead' }, el('a', { href: '#/dead/' + enc(q.name) }, q.dead)),
      el('td', { class: q.paused ? 'paused' : '' }, q.paused ? 'paused' : ''),
      el('td', {}, age(q.oldest_queued_age_ms)),
      numCell(q.completed_last_minute, 'completed_last_minute'), numCell(q.failed_last_minute, 'failed_last_minute'),
      numCell(q.completed_last_hour, 'completed_last_hour'), numCell(q.failed_last_hour, 'failed_last_hour')));
    document.getElementById('queues').replaceChildren(table(
      ['queue', 'queued', 'processing', 'delayed', 'dead', '', 'oldest', 'done/min', 'failed/min', 'done/h', 'failed/h'], rows, 'queue-table'));
    document.getElementById('throughput').replaceChildren(el('h3', {}, 'Throughput'), chart(overview.per_minute));
    if (window.leaseqFirstRenderMs === undefined) window.leaseqFirstRenderMs = performance.now();
  };
  const first = firstQueues || api('/api/queues');
  firstQueues = null;
  first.then(render).catch(showError);
  live(render);
}

async function queuePage(name, state, offset) {
  if (source) { source.close(); source = null; }
  state = state || 'queued'; offset = Number(offset || 0);
  const stats = await api('/api/queues/' + enc(name));
  const page = await api(`/api/queues/${enc(name)}/items?state=${enc(state)}&offset=${offset}&count=50`);
  const actions = config.read_only ? null : el('p', {},
    stats.paused
      ? el('button', { id: 'resume', onclick: () => post(`/api/queues/${enc(name)}/resume`).then(route).catch(showError) }, 'Resume')
      : el('button', { id: 'pause', onclick: () => post(`/api/queues/${enc(name)}/pause`).then(route).catch(showError) }, 'Pause'));
  const tabs = el('p', { class: 'tabs' }, ...['queued', 'prioritized', 'delayed', 'processing', 'dead'].map(s =>
    el('a', { href: `#/queue/${enc(name)}/${s}/0`, class: s === state ? 'on' : '' }, s)));
  const rows = page.items.map(item => el('tr', {},
    el('td', {}, el('a', { href: `#/item/${enc(name)}/${enc(item.id)}` }, item.id)),
    numCell(item.attempts), el('td', { class: 'data' }, dataText(item))));
  main.replaceChildren(...[
    el('h2', {}, 'Queue ', el('span', { id: 'queue-name' }, name), stats.paused ? el('span', { class: 'paused', id: 'paused' }, ' (paused)') : null),
    table(['queued', 'processing', 'delayed', 'dead'], [el('tr', {}, numCell(stats.queued, 'queued'), numCell(stats.processing, 'processing'),
      numCell(stats.delayed, 'delayed'), el('td', { class: 'n' }, el('a', { href: '#/dead/' + enc(name) }, stats.dead)))]),
    actions, chart(stats.per_minute), tabs,
    table(['id', 'attempts', 'data'], rows, 'items'),
    el('p', {},
      offset > 0 ? el('a', { href: `#/queue/${enc(name)}/${state}/${Math.max(0, offset - 50)}` }, '← newer ') : null,
      page.items.length === 50 ? el('a', { href: `#/queue/${enc(name)}/${state}/${offset + 50}` }, ' older →') : null)].filter(Boolean));
}

async function deadPage(name) {
  if (source) { source.close(); source = null; }
  const grep = el('input', { id: 'grep', placeholder: 'data contains' });
  const error = el('input', { id: 'error-filter', placeholder: 'error contains' });
  const results = el('div', { id: 'dead-results' });
  const status = el('div', { id: 'dead-status' });
  let shown = [];
  const load = async () => {
    const query = `grep=${enc(grep.value)}&error=${enc(error.value)}&count=200`;
    const page = await api(`/api/queues/${enc(name)}/dead?${query}`);
    shown = page.matching_ids;
    const rows = page.items.map(item => el('tr', { 'data-id': item.id },
      el('td', {}, el('a', { href: `#/item/${enc(name)}/${enc(item.id)}` }, item.id)),
      numCell(item.attempts), el('td', { class: 'error-text' }, item.error), el('td', { class: 'data' }, dataText(item))));
    const bulk = (action) => async () => {
      if (!window.confirm(`${action} ${shown.length} dead letters matching this filter?`)) return;
      const done = await post(`/api/queues/${enc(name)}/dead/${action}`, { grep: grep.value, error: error.value, ids: shown });
      const count = shown.length;
      await load();
      status.replaceChildren(el('p', { id: 'bulk-result' }, `${action}: ${done.requeued ?? done.purged} of ${count}`));
    };
    const buttons = config.read_only || !shown.length ? null : el('p', {},
      el('button', { id: 'requeue-filtered', onclick: () => bulk('requeue')().catch(showError) }, `Requeue ${shown.length} shown`),
      el('button', { id: 'purge-filtered', onclick: () => bulk('purge')().catch(showError) }, `Purge ${shown.length} shown`));
    results.replaceChildren(...[el('p', { id: 'dead-count' }, `${page.matching} of ${page.dead} dead letters match`), buttons,
      table(['id', 'attempts', 'error', 'data'], rows, 'dead-table')].filter(Boolean));
  };
  const form = el('form', { id: 'dead-filter' }, grep, ' ', error, ' ', el('button', { type: 'submit', id: 'search' }, 'Search'));
  form.addEventListener('submit', event => { event.preventDefault(); load().catch(showError); });
  main.replaceChildren(el('h2', {}, 'Dead letters of ', el('a', { href: '#/queue/' + enc(name) }, name)), form, status, results);
  await load();
}

async function itemPage(name, id) {
  if (source) { source.close(); source = null; }
  const item = await api(`/api/queues/${enc(name)}/items/${enc(id)}`);
  const rows = [['state', item.state], ['attempts', item.attempts], ['last error', item.last_error],
    ['lease holder', item.session], ['lease ends in', item.expires_in_ms != null ? age(item.expires_in_ms) : null],
    ['due', item.due_ms ? new Date(item.due_ms).toISOString() : null],
    ['died', item.died_ms ? new Date(item.died_ms).toISOString() : null], ['priority', item.priority], ['encoding', item.encoding]]
    .filter(([, v]) => v != null).map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { 'data-field': k }, v)));
  const data = item.encoding === 'json' ? JSON.stringify(item.data, null, 2) : (item.data ?? '');
  main.replaceChildren(el('h2', {}, 'Item ', el('span', {}, id), ' in ', el('a', { href: '#/queue/' + enc(name) }, name)),
    table(['', ''], rows, 'item-fields'), el('h3', {}, 'Data'), el('pre', { id: 'item-data' }, data));
}

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  document.getElementById('error')?.remove();
  document.getElementById('live').textContent = '';
  let work;
  if (parts[0] === 'queue' && parts[1]) work = queuePage(parts[1], parts[2], parts[3]);
  else if (parts[0] === 'dead' && parts[1]) work = deadPage(parts[1]);
  else if (parts[0] === 'item' && parts[1]) work = itemPage(parts[1], parts.slice(2).join('/'));
  else work = Promise.resolve(queueList());
  work.catch(showError);
}

// The first page's counts are asked for at once, beside the config, rather than one round trip
// after it: the queue list is what most visits open.
let firstQueues = /^#?\/?$/.test(location.hash) ? api('/api/queues') : null;
firstQueues?.catch(() => {});
api('/api/config').then(c => {
  config = c;
  document.getElementById('mode').textContent = c.read_only ? 'read-only' : '';
}).catch(showError).finally(() => { window.addEventListener('hashchange', route); route(); });
