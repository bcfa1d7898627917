// One dashboard (QuickSight's dashboard view): sheet tabs, a control for every filter and parameter of its
// definition, and a grid of visuals drawn by Plotly (served by lakeport from the plotly package, offline) from the
// figures the API builds. Aggregation stays on the server: the page asks for a sheet's answers
// (POST /dashboards/{name}/data) and, when a bar, slice or point is clicked, for the rows behind it (drill-down).
import { enc, get, post } from '../api.js';
import { $, clearError, dataGrid, fill, h, note, pageData, showError } from '../dom.js';

const { dashboard } = pageData();
const base = `/dashboards/${enc(dashboard)}`;
const root = $('#dashboard');
const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['sendDataToCloud', 'lasso2d', 'select2d'] };
const DRILL_LIMIT = 100;
const DRILLABLE = new Set(['bar', 'line', 'area', 'pie', 'donut', 'heatmap', 'scatter', 'box']);

// plotly.js (4.6 MB, the plotly package's own) loads beside the dashboard's first requests rather than before
// them; a figure waits for it only when it is drawn.
const plotly = new Promise((resolve, reject) => {
  if (window.Plotly) { resolve(window.Plotly); return; }
  const tag = document.createElement('script');
  tag.src = '/static/vendor/plotly.min.js';
  tag.async = true;
  tag.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error('plotly.js did not load')));
  tag.onerror = () => reject(new Error('plotly.js could not be loaded from /static/vendor/plotly.min.js'));
  document.head.append(tag);
});
plotly.catch(() => {}); // each figure reports it in its card

let definition = null;
let sheet = null;
let generation = 0; // the newest sheet request; older answers are dropped
// name → { value(): what to send (undefined: leave it to the definition's default), reset() }
const inputs = { filters: new Map(), parameters: new Map() };
// A control left empty sends nothing, unless its filter has a default: then it sends "no filter" to clear it.
const hasDefault = (filter) => filter.default !== undefined && filter.default !== null;

function status(value, text) {
  root.dataset.status = value;
  if (text !== undefined) fill('#dash-status', text).classList.toggle('muted', value !== 'error');
}

// ---- controls

const field = (label, ...control) => h('label', { class: 'dash-field' }, label, ...control);

function numberOrNull(text) {
  if (text === '' || text === null || text === undefined) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function rangeControl(filter) {
  const dates = filter.control === 'date_range';
  const type = dates ? 'date' : 'number';
  const low = h('input', { type, 'data-filter': filter.name, 'data-bound': 'min', 'aria-label': `${filter.name} from`, size: 8 });
  const high = h('input', { type, 'data-filter': filter.name, 'data-bound': 'max', 'aria-label': `${filter.name} to`, size: 8 });
  const bounds = h('span', { class: 'hint', 'data-bounds': filter.name });
  const [dlow, dhigh] = Array.isArray(filter.default) ? filter.default : [null, null];
  if (dlow !== null && dlow !== undefined) low.value = String(dlow);
  if (dhigh !== null && dhigh !== undefined) high.value = String(dhigh);
  const read = (input) => (dates ? (input.value || null) : numberOrNull(input.value));
  inputs.filters.set(filter.name, {
    value: () => {
      const pair = [read(low), read(high)];
      return pair[0] === null && pair[1] === null && !hasDefault(filter) ? undefined : pair;
    },
    reset: () => {
      low.value = dlow ?? '';
      high.value = dhigh ?? '';
    },
  });
  const bound = (value) => (value === null || value === undefined ? '' : dates ? String(value).slice(0, 10) : String(value));
  offered(filter, (answer) => {
    if (answer.Minimum === undefined) return;
    const [min, max] = [bound(answer.Minimum), bound(answer.Maximum)];
    for (const input of [low, high]) {
      if (min) input.min = min;
      if (max) input.max = max;
    }
    low.placeholder = min;
    high.placeholder = max;
    fill(bounds, min ? `${min} – ${max}` : 'no values');
  });
  return field(filter.name, h('span', { class: 'dash-pair' }, low, h('span', { class: 'muted' }, 'to'), high), bounds);
}

const shown = (value) => (value === null ? '(missing)' : String(value));

function choiceControl(filter) {
  const multiple = filter.control === 'multi_select';
  const select = h('select', { 'data-filter': filter.name, multiple, 'aria-label': filter.name, size: multiple ? 5 : null });
  let choices = [];
  const defaults = filter.default === undefined || filter.default === null ? [] : [].concat(filter.default);
  const options = () => {
    const items = choices.map((value, i) => h('option', { value: String(i), selected: defaults.some((d) => d === value) }, shown(value)));
    select.replaceChildren(...(multiple ? items : [h('option', { value: '' }, '(all)'), ...items]));
  };
  const fromValues = (values) => {
    choices = values || [];
    options();
  };
  fromValues(filter.values || []);
  inputs.filters.set(filter.name, {
    value: () => {
      const picked = [...select.selectedOptions].filter((o) => o.value !== '').map((o) => choices[Number(o.value)]);
      return picked.length || hasDefault(filter) ? picked : undefined;
    },
    reset: options,
  });
  if (!(filter.values && filter.values.length)) offered(filter, (answer) => fromValues(answer.Values));
  return field(filter.name, select);
}

function textControl(filter) {
  const input = h('input', { type: 'search', 'data-filter': filter.name, 'aria-label': filter.name, placeholder: 'contains…' });
  if (typeof filter.default === 'string') input.value = filter.default;
  inputs.filters.set(filter.name, {
    value: () => (input.value === '' && !hasDefault(filter) ? undefined : input.value),
    reset: () => { input.value = filter.default ?? ''; },
  });
  return field(filter.name, input);
}

// What a filter's control offers this viewer (distinct values or minimum and maximum, their row rules applied).
function offered(filter, use) {
  get(`${base}/filters/${enc(filter.name)}/values`).then(use).catch(() => {
    // the control still works without its bounds or choices; the sheet's own request reports access errors
  });
}

function filterControl(filter) {
  if (filter.parameter) return field(filter.name, h('span', { class: 'hint' }, `set by the parameter ${filter.parameter}`));
  if (filter.type === 'range') return rangeControl(filter);
  if (filter.type === 'values') return choiceControl(filter);
  return textControl(filter);
}

function parameterControl(p) {
  const numeric = p.type === 'integer' || p.type === 'decimal';
  const parse = (text) => {
    if (p.type === 'integer') return Number.parseInt(text, 10);
    if (p.type === 'decimal') return Number.parseFloat(text);
    return text;
  };
  let control;
  let read;
  if (p.values && p.values.length) {
    control = h('select', { 'data-parameter': p.name, 'aria-label': p.name },
      p.values.map((v, i) => h('option', { value: String(i), selected: v === p.default }, String(v))));
    read = () => p.values[Number(control.value)];
  } else if (p.control === 'slider' && numeric) {
    const out = h('output', { class: 'dash-out' }, String(p.default));
    const range = h('input', { type: 'range', 'data-parameter': p.name, 'aria-label': p.name, min: p.min ?? 0, max: p.max ?? 100,
      step: p.type === 'integer' ? 1 : 'any', value: String(p.default), oninput: () => { out.value = range.value; } });
    control = h('span', { class: 'dash-pair' }, range, out);
    read = () => parse(range.value);
    inputs.parameters.set(p.name, { value: read, reset: () => { range.value = String(p.default); out.value = range.value; } });
    return field(p.name, control);
  } else {
    const type = numeric ? 'number' : p.type === 'date' ? 'date' : 'text';
    control = h('input', { type, 'data-parameter': p.name, 'aria-label': p.name, min: p.min, max: p.max,
      step: p.type === 'integer' ? 1 : numeric ? 'any' : null, value: String(p.default ?? '') });
    read = () => parse(control.value);
  }
  inputs.parameters.set(p.name, {
    value: read,
    reset: () => { control.value = control.tagName === 'SELECT' ? String(Math.max(0, p.values.indexOf(p.default))) : String(p.default ?? ''); },
  });
  return field(p.name, control);
}

function chosen(kind) {
  const out = {};
  for (const [name, control] of inputs[kind]) {
    const value = control.value();
    if (value !== undefined && !(typeof value === 'number' && Number.isNaN(value))) out[name] = value;
  }
  return out;
}

// ---- sheets and visuals

function tabs() {
  fill('#sheets', definition.sheets.map((s) => h('button', {
    type: 'button', role: 'tab', class: 'dash-tab', 'data-sheet': s.name, 'aria-selected': String(s.name === sheet),
    onclick: () => {
      if (s.name === sheet) return;
      sheet = s.name;
      history.replaceState(null, '', `#sheet=${enc(sheet)}`);
      tabs();
      load();
    },
  }, s.name)));
}

const SIZES = { kpi: 'kpi', table: 'wide', pivot: 'wide' };

function card(visual, kind, title) {
  return h('section', { class: `card viz ${SIZES[kind] || ''}`, 'data-visual': visual, 'data-kind': kind, 'data-state': 'loading', 'data-rows': '0' },
    h('h2', {}, title || visual),
    h('div', { class: 'viz-body muted' }, 'Loading…'));
}

function errorCard(answer) {
  const node = card(answer.Visual, answer.Kind, answer.Title);
  node.dataset.state = 'error';
  const { code, message, hint } = answer.Error || {};
  fill($('.viz-body', node),
    h('p', { class: 'error-line' }, code ? `${code}: ${message}` : message || 'This visual could not be answered.'),
    hint ? h('p', { class: 'hint' }, hint) : null);
  return node;
}

function sqlDetails(answer) {
  if (!answer.Sql) return null;
  return h('details', { class: 'viz-sql' }, h('summary', {}, 'SQL'),
    h('pre', { class: 'code' }, answer.Sql),
    answer.QueryExecutionId ? h('p', { class: 'hint' }, 'query ', h('code', {}, answer.QueryExecutionId)) : null);
}

function draw(answer) {
  const rows = answer.Rows || [];
  const node = card(answer.Visual, answer.Kind, answer.Title);
  node.dataset.rows = String(rows.length);
  const body = $('.viz-body', node);
  const foot = h('div', { class: 'viz-foot hint' },
    `${rows.length} row${rows.length === 1 ? '' : 's'}`,
    answer.Options?.truncated ? ' (the first of more: truncated)' : '',
    drillable(answer) ? ' · click a mark for its rows' : '');
  node.append(foot, sqlDetails(answer) || '');
  if (!rows.length) {
    node.dataset.state = 'empty';
    note(body, 'No data for these filters.');
    return { node, plot: null };
  }
  body.classList.remove('muted');
  body.replaceChildren();
  if (!answer.Figure) { // no figure: the rows as a table
    fill(body, dataGrid((answer.Columns || []).map((c) => c.Name), rows));
    node.dataset.state = 'rendered';
    return { node, plot: null };
  }
  const plot = h('div', { class: 'viz-plot' });
  body.append(plot);
  return { node, plot };
}

async function plotInto(answer, node, plot) {
  const figure = answer.Figure;
  const layout = { autosize: true, ...(figure.layout || {}) };
  delete layout.width;
  delete layout.height;
  let traces = figure.data || [];
  if (answer.Kind === 'kpi') {
    layout.margin = { l: 10, r: 10, t: 36, b: 8 };
    // one number: the card's title says what it is (the indicator's own title would repeat it)
    if (traces.length === 1) traces = [{ ...traces[0], title: { text: '' } }];
  }
  if (layout.paper_bgcolor) node.style.background = layout.paper_bgcolor; // the card takes the theme's paper
  node.classList.add('plotted'); // the figure carries the title
  const library = await plotly;
  await library.newPlot(plot, traces, layout, PLOT_CONFIG);
  node.dataset.state = 'rendered';
  if (drillable(answer)) {
    plot.on('plotly_click', (event) => {
      const point = event?.points?.[0];
      if (point) drill(answer, point);
    });
  }
}

async function load() {
  const mine = ++generation;
  clearError();
  closeDrill();
  const started = performance.now();
  status('loading', 'Loading…');
  $('#apply').disabled = true;
  const visuals = definition.sheets.find((s) => s.name === sheet)?.visuals || [];
  fill('#visuals', visuals.map((v) => card(v.id, v.kind, v.title)));
  let answer;
  try {
    answer = await post(`${base}/data`, { Sheet: sheet, Filters: chosen('filters'), Parameters: chosen('parameters') });
  } catch (err) {
    if (mine !== generation) return;
    $('#apply').disabled = false;
    status('error', 'Failed');
    showError(err);
    const line = err && typeof err.line === 'function' ? err.line() : String(err?.message || err);
    fill('#visuals', h('section', { class: 'card viz wide', 'data-state': 'error', 'data-rows': '0' },
      h('h2', {}, `Sheet ${sheet}`),
      h('p', { class: 'error-line' }, line),
      err?.hint ? h('p', { class: 'hint' }, err.hint) : null));
    return;
  }
  if (mine !== generation) return;
  const drawn = (answer.Visuals || []).map((v) => (v.Error ? { node: errorCard(v), plot: null, v } : { ...draw(v), v }));
  fill('#visuals', drawn.map((d) => d.node));
  const failed = [];
  await Promise.all(drawn.filter((d) => d.plot).map(async (d) => {
    try {
      await plotInto(d.v, d.node, d.plot);
    } catch (err) {
      failed.push(d.v.Visual);
      d.node.dataset.state = 'error';
      fill($('.viz-body', d.node), h('p', { class: 'error-line' }, `Could not draw: ${err?.message || err}`));
    }
  }));
  if (mine !== generation) return;
  $('#apply').disabled = false;
  const errors = drawn.filter((d) => d.v.Error).length + failed.length;
  const took = ((performance.now() - started) / 1000).toFixed(2);
  status('ready', `Done: ${drawn.length} visual${drawn.length === 1 ? '' : 's'} in ${took} s${errors ? ` · ${errors} failed` : ''}`);
}

// ---- drill-down

function dimensions(answer) {
  return (answer.Columns || []).filter((c) => c.Role === 'dimension').map((c) => c.Name);
}

// A visual whose marks stand for groups of rows (a scatter only when it is aggregated by dimensions).
function drillable(answer) {
  const dims = dimensions(answer).filter((d) => d !== 'color' || answer.Kind !== 'scatter');
  return DRILLABLE.has(answer.Kind) && dims.length > 0;
}

const NULL_LABEL = '(null)'; // how the figures show a missing dimension value

// A category label of the figure back to the dimension's value: (null) → null, true/false → booleans.
function unlabel(answer, name, value) {
  if (value === NULL_LABEL || value === undefined) return null;
  const type = (answer.Columns || []).find((c) => c.Name === name)?.Type || '';
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

// The clicked point's dimension values, read from the mark the way the server's figures are built: categories on
// the category axis (several dimensions joined by " · "), the series (the last dimension) as the trace's name.
function pointValues(answer, point) {
  const dims = dimensions(answer).filter((d) => d !== 'color' || answer.Kind !== 'scatter');
  const custom = point.customdata;
  if (custom && typeof custom === 'object' && !Array.isArray(custom)) return custom;
  const trace = point.data || {};
  const index = point.pointIndex ?? point.pointNumber;
  const raw = (axis) => (Array.isArray(trace[axis]) && typeof index === 'number' ? trace[axis][index] : point[axis]);
  const out = {};
  const put = (names, value) => {
    const parts = names.length > 1 && typeof value === 'string' ? value.split(' · ') : [value];
    if (parts.length !== names.length) return false;
    names.forEach((name, i) => { out[name] = unlabel(answer, name, parts[i]); });
    return true;
  };
  const kind = answer.Kind;
  if (kind === 'pie' || kind === 'donut') {
    put(dims.slice(0, 1), point.label);
  } else if (kind === 'heatmap') {
    put(dims.slice(0, 1), point.x);
    if (dims[1]) put(dims.slice(1, 2), point.y);
  } else if (kind === 'scatter') {
    if (trace.text === undefined || !dims.length) return null;
    if (!put(dims, raw('text'))) return null;
  } else if (kind === 'box') {
    if (!dims.length) return null;
    put(dims, raw('x'));
  } else { // bar, line, area
    const series = dims.length >= 2 ? dims[dims.length - 1] : null;
    const categories = series ? dims.slice(0, -1) : dims;
    if (!put(categories, trace.orientation === 'h' ? raw('y') : raw('x'))) return null;
    if (series) {
      const measures = (answer.Columns || []).filter((c) => c.Role === 'measure').map((c) => c.Name);
      let name = String(trace.name ?? '');
      if (measures.length > 1) for (const m of measures) if (name.endsWith(` · ${m}`)) name = name.slice(0, -(m.length + 3));
      out[series] = unlabel(answer, series, name);
    }
  }
  return Object.keys(out).length ? out : null;
}

function closeDrill() {
  $('#drill').hidden = true;
}

async function drill(answer, point) {
  const values = pointValues(answer, point);
  if (!values) return;
  const panel = $('#drill');
  panel.hidden = false;
  panel.dataset.state = 'loading';
  panel.dataset.visual = answer.Visual;
  panel.dataset.point = JSON.stringify(values);
  const what = Object.entries(values).map(([k, v]) => `${k} = ${shown(v)}`).join(', ');
  fill('#drill-title', `${answer.Title || answer.Visual}: rows where ${what}`);
  note('#drill-body', 'Loading…');
  try {
    const found = await post(`${base}/drill-down`, {
      Sheet: sheet, Visual: answer.Visual, Point: values, Filters: chosen('filters'), Parameters: chosen('parameters'), Limit: DRILL_LIMIT,
    });
    const rows = found.Rows || [];
    panel.dataset.rows = String(rows.length);
    fill('#drill-body',
      h('p', { class: 'muted' }, `${rows.length} row${rows.length === 1 ? '' : 's'}${rows.length >= DRILL_LIMIT ? ` (the first ${DRILL_LIMIT})` : ''}`),
      dataGrid((found.Columns || []).map((c) => c.Name), rows));
    panel.dataset.state = 'ready';
  } catch (err) {
    panel.dataset.state = 'error';
    showError(err, '#drill-body');
  }
  panel.scrollIntoView({ block: 'nearest' });
}

// ---- start

async function start() {
  let board;
  try {
    ({ Dashboard: board } = await get(base));
  } catch (err) {
    status('error', 'Failed');
    showError(err);
    return;
  }
  definition = board.Definition || { sheets: [] };
  fill('#dash-title', definition.title || board.Name || dashboard);
  document.title = `${definition.title || dashboard} · lakeport`;
  if (!definition.sheets?.length) {
    status('ready', 'This dashboard has no sheets.');
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get('sheet');
  sheet = definition.sheets.some((s) => s.name === wanted) ? wanted : definition.sheets[0].name;
  tabs();
  const filters = definition.filters || [];
  const parameters = definition.parameters || [];
  fill('#filters', filters.length ? [h('h3', {}, 'Filters'), ...filters.map(filterControl)] : []);
  fill('#parameters', parameters.length ? [h('h3', {}, 'Parameters'), ...parameters.map(parameterControl)] : []);
  await load();
}

$('#controls').addEventListener('submit', (event) => {
  event.preventDefault();
  if (definition) load();
});
$('#reset').addEventListener('click', () => {
  for (const kind of ['filters', 'parameters']) for (const control of inputs[kind].values()) control.reset();
  if (definition) load();
});
$('#drill-close').addEventListener('click', closeDrill);

start();
