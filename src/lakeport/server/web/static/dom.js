// Small helpers to build the page: elements, tables, badges, times, byte sizes, errors, polling.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function fill(target, ...children) {
  const node = typeof target === 'string' ? $(target) : target;
  node.classList.remove('muted');
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

export function note(target, text) {
  const node = fill(target, text);
  node.classList.add('muted');
  return node;
}

// A table: columns are [label, item => cell] pairs (a cell is text or a node).
export function table(columns, items, { empty = 'Nothing here yet.', rowClass } = {}) {
  if (!items.length) return h('p', { class: 'muted' }, empty);
  const head = h('tr', {}, columns.map(([label]) => h('th', {}, label)));
  const body = items.map((item) =>
    h('tr', { class: rowClass ? rowClass(item) : null }, columns.map(([, cell]) => {
      const value = cell(item);
      return h('td', {}, value === null || value === undefined ? '' : value);
    })),
  );
  return h('table', { class: 'grid' }, h('thead', {}, head), h('tbody', {}, body));
}

export function link(href, text) {
  return h('a', { href }, text);
}

const GOOD = new Set(['Allow', 'SUCCEEDED', 'COMPLETED', 'READY', 'OK', 'ACTIVE', 'Active', 'CONFIRMED', 'DELIVERED', 'succeeded']);
const BAD = new Set(['ExplicitDeny', 'ImplicitDeny', 'Deny', 'FAILED', 'TIMED_OUT', 'ABORTED', 'ALARM', 'ERROR', 'CANCELLED', 'STOPPED', 'failed']);
const BUSY = new Set(['RUNNING', 'QUEUED', 'STARTING', 'STOPPING', 'PENDING', 'in progress']);

export function badge(state) {
  if (!state) return '';
  const kind = GOOD.has(state) ? 'good' : BAD.has(state) ? 'bad' : BUSY.has(state) ? 'busy' : 'plain';
  return h('span', { class: `badge ${kind}` }, state);
}

export function when(value) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { hour12: false });
}

export function bytes(n) {
  if (n === null || n === undefined || n === '') return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = Number(n);
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  return `${i ? value.toFixed(1) : value} ${units[i]}`;
}

export function seconds(ms) {
  if (ms === null || ms === undefined) return '';
  return `${(Number(ms) / 1000).toFixed(2)} s`;
}

export function json(value) {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return value;
    }
  }
  return JSON.stringify(parsed, null, 2);
}

export function code(text, cls = 'code') {
  return h('pre', { class: cls }, text);
}

// Show one line for an error: in the page's error bar, or in a box when given.
export function showError(err, target = null) {
  const line = err && typeof err.line === 'function' ? err.line() : String(err?.message || err);
  if (err?.status === 401) return;
  if (target) {
    const node = typeof target === 'string' ? $(target) : target;
    node.replaceChildren(h('p', { class: 'error-line' }, line));
    return;
  }
  const bar = $('#error');
  bar.textContent = line;
  bar.hidden = false;
}

export function clearError() {
  const bar = $('#error');
  bar.hidden = true;
  bar.textContent = '';
}

// Run `step` now and every `ms` while it returns true; returns a function that stops it.
export function every(ms, step) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    let again = false;
    try {
      again = await step();
    } catch (err) {
      showError(err);
      again = false;
    }
    if (again && !stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export function pageData() {
  return JSON.parse($('#app').dataset.page || '{}');
}

// Load a section: run `load` and show its error (one line) in place of the section when it fails.
export async function section(target, load) {
  try {
    await load();
  } catch (err) {
    showError(err, target);
  }
}

// A data grid for {columns, rows} (previews and query results).
export function dataGrid(columns, rows) {
  if (!columns.length) return h('p', { class: 'muted' }, 'No columns.');
  // A column is a name, or {name, type} as previews give it; a row is a list, or an object keyed by name.
  const names = columns.map((c) => (typeof c === 'object' && c !== null ? c.name ?? c.Name : c));
  return table(
    names.map((name, i) => [name, (row) => cellText(Array.isArray(row) ? row[i] : row?.[name])]),
    rows,
    { empty: 'No rows.' },
  );
}

function cellText(value) {
  if (value === null || value === undefined) return h('span', { class: 'null' }, 'NULL');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// A table of objects whose shape the page does not fix: the columns are the keys of the items (scalars only,
// `prefer` first), at most `max` of them; `cells` overrides how a key is shown.
export function autoTable(items, { prefer = [], cells = {}, max = 8, empty } = {}) {
  const keys = [];
  for (const key of prefer) if (items.some((item) => item && key in item)) keys.push(key);
  for (const item of items.slice(0, 20)) {
    for (const [key, value] of Object.entries(item || {})) {
      if (keys.includes(key) || keys.length >= max) continue;
      if (value !== null && typeof value === 'object' && !cells[key]) continue;
      keys.push(key);
    }
  }
  const shown = (key) => (item) => {
    if (cells[key]) return cells[key](item);
    const value = item[key];
    if (value === null || value === undefined) return '';
    if (/state|status|decision/i.test(key) && typeof value === 'string') return badge(value);
    if (/(time|date|_at|^at|timestamp)$/i.test(key)) return when(value);
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  };
  return table(keys.map((key) => [key, shown(key)]), items, { empty });
}
