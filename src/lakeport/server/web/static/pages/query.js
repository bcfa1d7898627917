// The query editor (Athena's console): highlighted SQL with catalog completion, run/cancel, the results grid,
// statistics, CSV download, history and saved queries.
import { all, enc, get, post, served } from '../api.js';
import { $, badge, bytes, clearError, dataGrid, fill, h, note, section, seconds, showError, table, when } from '../dom.js';
import { SqlEditor } from '../editor.js';

const cache = new Map();
const remember = (key, load) => {
  if (!cache.has(key)) cache.set(key, load().catch((err) => { cache.delete(key); throw err; }));
  return cache.get(key);
};
const catalog = {
  databases: () => remember('dbs', async () => (await all('/catalog/databases', 'DatabaseList')).map((d) => d.Name)),
  tables: (db) => remember(`t:${db}`, async () => (await all(`/catalog/databases/${enc(db)}/tables`, 'TableList')).map((t) => t.Name)),
  columns: (db, name) => remember(`c:${db}.${name}`, async () => {
    const { Table: t } = await get(`/catalog/databases/${enc(db)}/tables/${enc(name)}`);
    return [...(t.StorageDescriptor?.Columns || []), ...(t.PartitionKeys || [])].map((c) => c.Name);
  }),
};

const editor = new SqlEditor($('#editor'), catalog, { database: 'default', onRun: run });
let current = null;
let stopped = false;

async function databases() {
  const names = await catalog.databases();
  const select = $('#database');
  select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
  const preferred = names.find((n) => n !== 'default') || names[0] || 'default';
  select.value = preferred;
  editor.database = preferred;
  select.addEventListener('change', () => {
    editor.database = select.value;
    tree();
  });
  await tree();
}

async function tree() {
  const db = editor.database;
  await section('#tree', async () => {
    const names = await catalog.tables(db);
    fill('#tree', names.length ? h('ul', { class: 'tree' }, names.map((name) => {
      const cols = h('ul', { class: 'cols', hidden: true });
      return h('li', {},
        h('a', { href: '#', onclick: async (e) => {
          e.preventDefault();
          if (cols.hidden) {
            try {
              const names2 = await catalog.columns(db, name);
              cols.replaceChildren(...names2.map((c) => h('li', {}, c)));
            } catch (err) {
              showError(err);
            }
          }
          cols.hidden = !cols.hidden;
        } }, name),
        ' ',
        h('button', { type: 'button', class: 'link', title: 'Preview in the editor', onclick: () => {
          editor.value = `SELECT * FROM "${db}"."${name}" LIMIT 10`;
          run();
        } }, 'preview'),
        cols);
    })) : h('p', { class: 'muted' }, 'No tables in this database.'));
  });
}

function busy(isBusy) {
  $('#run').disabled = isBusy;
  $('#cancel').disabled = !isBusy;
}

async function run() {
  clearError();
  const sql = editor.value.trim();
  if (!sql) return;
  busy(true);
  stopped = false;
  note('#results', 'Starting…');
  fill('#stats', '');
  $('#download').hidden = true;
  try {
    const { QueryExecutionId } = await post('/queries', { QueryString: sql, Database: editor.database });
    current = QueryExecutionId;
    history.replaceState(null, '', `#${QueryExecutionId}`);
    await follow(QueryExecutionId);
  } catch (err) {
    showError(err);
    note('#results', '');
    fill('#state', '');
  } finally {
    busy(false);
    loadHistory();
  }
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function follow(id) {
  let wait = 100;
  for (;;) {
    const { QueryExecution: q } = await get(`/queries/${enc(id)}`);
    fill('#state', badge(q.Status.State), ' ', h('code', {}, id));
    if (!['QUEUED', 'RUNNING'].includes(q.Status.State) || stopped) {
      await show(q);
      return;
    }
    note('#results', `${q.Status.State.toLowerCase()}…`);
    await sleep(wait);
    wait = Math.min(1000, wait * 2);
  }
}

async function show(q) {
  const stats = q.Statistics || {};
  fill('#stats', `engine ${seconds(stats.EngineExecutionTimeInMillis)} · total ${seconds(stats.TotalExecutionTimeInMillis)} · scanned ${bytes(stats.DataScannedInBytes ?? 0)}`);
  if (q.Status.State !== 'SUCCEEDED') {
    fill('#results', h('p', { class: 'error-line' }, `${q.Status.State}: ${q.Status.StateChangeReason || ''}`));
    return;
  }
  const page = await get(`/queries/${enc(q.QueryExecutionId)}/results?max_results=1000`);
  const rows = (page.ResultSet?.Rows || []).map((r) => (r.Data || []).map((d) => (d && 'VarCharValue' in d ? d.VarCharValue : null)));
  const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo;
  const columns = info ? info.map((c) => c.Name) : (rows.shift() || []);
  if (info && rows.length && rows[0].every((v, i) => v === columns[i])) rows.shift();
  fill('#results', h('p', { class: 'muted' }, `${rows.length}${page.NextToken ? '+' : ''} rows`), dataGrid(columns, rows));
  const where = /^s3:\/\/([^/]+)\/(.+)$/.exec(q.ResultConfiguration?.OutputLocation || '');
  if (where && (await served('GET', '/storage/buckets/{bucket}/objects/download'))) {
    const a = $('#download');
    a.href = `/api/v1/storage/buckets/${enc(where[1])}/objects/download?key=${enc(where[2])}`;
    a.setAttribute('download', `${q.QueryExecutionId}.csv`);
    a.hidden = false;
  }
}

async function open(id) {
  await section('#results', async () => {
    const { QueryExecution: q } = await get(`/queries/${enc(id)}`);
    editor.value = q.Query;
    current = id;
    await follow(id);
  });
}

async function loadHistory() {
  await section('#history', async () => {
    const { QueryExecutions } = await get('/queries?limit=25');
    fill('#history', table([
      ['Query', (q) => h('a', { href: `#${q.QueryExecutionId}`, onclick: (e) => { e.preventDefault(); history.replaceState(null, '', `#${q.QueryExecutionId}`); open(q.QueryExecutionId); } }, q.Query.length > 70 ? `${q.Query.slice(0, 69)}…` : q.Query)],
      ['State', (q) => badge(q.Status.State)],
      ['Submitted', (q) => when(q.Status.SubmissionDateTime)],
      ['Engine', (q) => seconds(q.Statistics?.EngineExecutionTimeInMillis)],
      ['Scanned', (q) => bytes(q.Statistics?.DataScannedInBytes)],
    ], QueryExecutions, { empty: 'No queries yet.' }));
  });
}

async function saved() {
  await section('#saved', async () => {
    if (!(await served('GET', '/queries/named'))) {
      note('#saved', 'Saved queries are not served by this API yet (GET /api/v1/queries/named).');
      return;
    }
    const ids = await all('/queries/named', 'NamedQueryIds', 200);
    const items = (await Promise.all(ids.map((id) => get(`/queries/named/${enc(id)}`)))).map((found) => found.NamedQuery);
    fill('#saved', table([
      ['Name', (n) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); useSaved(n); } }, n.Name)],
      ['Database', (n) => n.Database],
      ['Query', (n) => (n.QueryString.length > 60 ? `${n.QueryString.slice(0, 59)}…` : n.QueryString)],
    ], items, { empty: 'No saved queries: name the query above and Save it.' }));
  });
}

function useSaved(named) {
  editor.value = named.QueryString;
  const select = $('#database');
  if ([...select.options].some((o) => o.value === named.Database)) {
    select.value = named.Database;
    editor.database = named.Database;
    tree();
  }
}

$('#save-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('#save-name').value.trim();
  if (!name || !editor.value.trim()) return;
  try {
    await post('/queries/named', { Name: name, QueryString: editor.value, Database: editor.database });
    $('#save-name').value = '';
    await saved();
  } catch (err) {
    showError(err);
  }
});

$('#run').addEventListener('click', run);
$('#cancel').addEventListener('click', async () => {
  if (!current) return;
  stopped = true;
  try {
    await post(`/queries/${enc(current)}/stop`);
  } catch (err) {
    showError(err);
  }
});

section('#tree', databases);
loadHistory();
saved();
const hash = decodeURIComponent(location.hash.slice(1));
if (hash.startsWith('sql=')) editor.value = hash.slice(4);
else if (hash) open(hash);
