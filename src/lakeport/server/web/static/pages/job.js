// One job: its DAG, each node's definition, generated SQL and data preview; runs with live state, metrics,
// start/stop; bookmarks.
import { all, enc, get, getIf, post, served } from '../api.js';
import { drawDag } from '../dag.js';
import { autoTable, badge, code, dataGrid, every, fill, h, json, note, pageData, section, showError, table, when } from '../dom.js';
import { highlight } from '../sql.js';

const { job: name } = pageData();
const base = `/jobs/${enc(name)}`;
let statements = [];
let stopPolling = null;
let opened = null;

function sqlBlock(text) {
  const pre = h('pre', { class: 'code sql' });
  pre.innerHTML = highlight(text);
  return pre;
}

function showNode(node) {
  fill('#node-title', `Node ${node.id} (${node.type})`);
  fill('#node', code(json(node)));
  const mine = statements.filter((s) => s.includes(`"${node.id}"`) || new RegExp(`\\b${node.id}\\b`).test(s));
  if (mine.length) fill('#sql', h('p', { class: 'muted' }, `Statements that build ${node.id}:`), mine.map(sqlBlock));
  else fill('#sql', statements.map(sqlBlock));
  preview(node);
}

async function preview(node) {
  note('#preview', `Reading the first rows of ${node.id}…`);
  await section('#preview', async () => {
    if (!(await served('GET', '/jobs/{name}/nodes/{node}/preview'))) {
      note('#preview', 'No data preview route on this server.');
      return;
    }
    const found = await get(`${base}/nodes/${enc(node.id)}/preview?limit=10`);
    fill('#preview', h('div', { class: 'results' }, dataGrid(found.columns, found.rows)));
  });
}

async function runs() {
  const list = await all(`${base}/runs`, 'JobRuns', 50);
  fill('#runs', table([
    ['Run', (r) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); run(r.Id); } }, r.Id)],
    ['State', (r) => badge(r.JobRunState)],
    ['Started', (r) => when(r.StartedOn)],
    ['Completed', (r) => when(r.CompletedOn)],
    ['Seconds', (r) => String(r.ExecutionTime ?? '')],
    ['Error', (r) => r.ErrorMessage || ''],
    ['', (r) => (['RUNNING', 'STARTING', 'WAITING'].includes(r.JobRunState) ? h('button', { type: 'button', onclick: () => stop(r.Id) }, 'Stop') : '')],
  ], list, { empty: 'Never run.' }));
  if (list.length && (opened === null || opened === list[0].Id)) await run(list[0].Id); // the newest run, live
  return list.some((r) => ['RUNNING', 'STARTING', 'STOPPING', 'WAITING'].includes(r.JobRunState));
}

async function run(id) {
  opened = id;
  await section('#run', async () => {
    const found = await get(`${base}/runs/${enc(id)}`);
    const parts = [h('h3', {}, `Run ${id}`), h('p', {}, badge(found.JobRun.JobRunState), ' log stream ', h('code', {}, found.LogStreamName || '—')),
      h('h3', {}, 'Metrics'), code(json(found.Metrics || {}))];
    if (found.LogStreamName && found.JobRun.LogGroupName && (await served('GET', '/logs/events'))) {
      const params = new URLSearchParams({ group: found.JobRun.LogGroupName, stream: found.LogStreamName, limit: '200', start_from_head: 'true' });
      try {
        const { events } = await get(`/logs/events?${params}`);
        parts.push(h('h3', {}, `Log (${events.length} events)`), code(events.map((e) => `${new Date(e.timestamp).toISOString().slice(11, 23)}  ${e.message}`).join('\n') || '(empty)'));
      } catch (err) {
        parts.push(h('p', { class: 'muted' }, `Log: ${err.message}`));
      }
    }
    fill('#run', parts);
  });
}

async function stop(id) {
  try {
    await post(`${base}/runs/${enc(id)}/stop`);
    watch();
  } catch (err) {
    showError(err);
  }
}

function watch() {
  if (stopPolling) stopPolling();
  stopPolling = every(1000, runs);
}

document.getElementById('start').addEventListener('click', async () => {
  try {
    await post(`${base}/runs`, {});
    watch();
  } catch (err) {
    showError(err);
  }
});

section('#dag', async () => {
  const { Job } = await getIf('/jobs/{name}', base);
  fill('#desc', Job.description || '');
  try {
    statements = (await get(`${base}/script`)).Statements || [];
    fill('#sql', statements.map(sqlBlock));
  } catch (err) {
    showError(err, '#sql');
  }
  const nodes = Job.nodes || [];
  if (!nodes.length) {
    note('#dag', `${name} is a ${Job.kind} job: it has no graph of nodes.`);
    if (Job.script) fill('#node', code(Job.script));
    return;
  }
  const select = drawDag(document.getElementById('dag'), nodes, showNode);
  select(nodes[0].id);
});

section('#bookmarks', async () => {
  await getIf('/jobs/{name}/bookmarks', `${base}/bookmarks`);
  await bookmarks();
});

async function bookmarks() {
  const entries = await all(`${base}/bookmarks`, 'Entries', 200);
  const reset = h('button', { type: 'button', onclick: async () => {
    try {
      await post(`${base}/bookmarks/reset`);
      await bookmarks();
    } catch (err) {
      showError(err);
    }
  } }, 'Reset bookmark');
  fill('#bookmarks', autoTable(entries, { empty: 'No bookmark entries (every run reads all its input).' }), entries.length ? reset : null);
}

section('#runs', async () => {
  await getIf('/jobs/{name}/runs', `${base}/runs?limit=1`);
  watch();
});
