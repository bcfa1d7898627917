// One state machine: the graph coloured live by the chosen execution, the executions, history events, and a
// form that starts an execution with JSON input (Step Functions' console).
import { all, enc, get, post, request } from '../api.js';
import { $, badge, clearError, code, every, fill, h, json, note, pageData, section, showError, table, when } from '../dom.js';

const { machine } = pageData();
const base = `/states/machines/${enc(machine)}`;
let chosen = decodeURIComponent(location.hash.slice(1)) || null;
let stopPolling = null;

async function graph(execution) {
  const query = execution ? `&execution=${enc(execution)}` : '';
  const svg = await request(`${base}/graph?format=svg${query}`);
  const holder = $('#graph');
  holder.classList.remove('muted');
  holder.innerHTML = svg;
}

async function executions() {
  const list = await all(`${base}/executions`, 'executions', 100);
  fill('#executions', table([
    ['Execution', (e) => h('a', { href: `#${enc(e.name)}`, class: e.name === chosen ? 'selected' : null, onclick: (ev) => { ev.preventDefault(); choose(e.name); } }, e.name)],
    ['Status', (e) => badge(e.status)],
    ['Started', (e) => when(e.startDate)],
  ], list, { empty: 'No executions yet.' }));
  return list;
}

async function detail() {
  if (!chosen) {
    await graph(null);
    return false;
  }
  const e = await get(`${base}/executions/${enc(chosen)}`);
  fill('#exec-title', `Execution ${e.name}`);
  const parts = [badge(e.status), ` started ${when(e.startDate)}`];
  if (e.stopDate) parts.push(`, ended ${when(e.stopDate)}`);
  if (e.currentState) parts.push(' · in ', h('code', {}, e.currentState));
  if (e.error) parts.push(h('p', { class: 'error-line' }, `${e.error}: ${e.cause || ''}`));
  const io = h('details', {}, h('summary', {}, 'Input and output'), h('h3', {}, 'Input'), code(json(e.input)), e.output ? [h('h3', {}, 'Output'), code(json(e.output))] : null);
  fill('#exec-summary', h('p', { id: 'exec-status', dataset: { status: e.status } }, parts), io);
  $('#exec-summary').dataset.status = e.status;
  await graph(chosen);
  const events = await all(`${base}/executions/${enc(chosen)}/history`, 'events', 1000);
  fill('#history', table([
    ['#', (ev) => String(ev.id ?? '')],
    ['Type', (ev) => ev.type],
    ['State', (ev) => ev.stateEnteredEventDetails?.name || ev.stateExitedEventDetails?.name || ''],
    ['Time', (ev) => when(ev.timestamp)],
    ['Details', (ev) => detailsOf(ev)],
  ], events, { empty: 'No events yet.' }));
  return e.status === 'RUNNING';
}

function detailsOf(ev) {
  for (const [key, value] of Object.entries(ev)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object') {
      const text = JSON.stringify(value);
      return text.length > 160 ? `${text.slice(0, 159)}…` : text;
    }
  }
  return '';
}

function choose(name) {
  chosen = name;
  history.replaceState(null, '', name ? `#${name}` : location.pathname);
  watch();
}

function watch() {
  if (stopPolling) stopPolling();
  stopPolling = every(1000, async () => {
    const list = await executions();
    const running = await detail();
    return running || list.some((e) => e.status === 'RUNNING');
  });
}

$('#start').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError();
  let input;
  try {
    input = JSON.parse($('#input').value || '{}');
  } catch (err) {
    showError(new Error(`The input is not JSON: ${err.message}`));
    return;
  }
  const name = $('#exec-name').value.trim() || undefined;
  try {
    const started = await post(`${base}/executions`, { input, name });
    $('#exec-name').value = '';
    choose(started.executionArn.split(':').pop());
  } catch (err) {
    showError(err);
  }
});

section('#graph', async () => {
  await get(base);
  note('#history', chosen ? 'Loading…' : 'Choose an execution.');
  watch();
});
