// One table: its columns, partitions, and versions with a diff between any version and the one before it.
import { all, enc, get } from '../api.js';
import { fill, h, note, pageData, section, table, when } from '../dom.js';

const { database, table: name } = pageData();
const base = `/catalog/databases/${enc(database)}/tables/${enc(name)}`;

section('#summary', async () => {
  const { Table: t } = await get(base);
  const sd = t.StorageDescriptor || {};
  const facts = [
    ['Location', sd.Location], ['Format', t.Parameters?.table_type || t.Parameters?.classification],
    ['Type', t.TableType], ['Description', t.Description], ['Created', when(t.CreateTime)],
    ['Updated', when(t.UpdateTime)], ['Version', t.VersionId],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  fill('#summary', h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
    h('p', {}, h('a', { href: `/query#sql=${enc(`SELECT * FROM "${database}"."${name}" LIMIT 10`)}` }, 'Query this table')));
  const columns = [...(sd.Columns || []).map((c) => ({ ...c, key: '' })), ...(t.PartitionKeys || []).map((c) => ({ ...c, key: 'partition key' }))];
  fill('#columns', table([
    ['#', (c) => String(columns.indexOf(c) + 1)], ['Column', (c) => c.Name], ['Type', (c) => h('code', {}, c.Type)],
    ['', (c) => c.key], ['Comment', (c) => c.Comment || ''],
  ], columns, { empty: 'No columns.' }));
});

section('#partitions', async () => {
  const parts = await all(`${base}/partitions`, 'Partitions', 200);
  if (!parts.length) {
    note('#partitions', 'No partitions.');
    return;
  }
  fill('#partitions', table([
    ['Values', (p) => (p.values || p.Values || []).join(' / ')],
    ['Location', (p) => p.location || p.StorageDescriptor?.Location || ''],
    ['Created', (p) => when(p.created_at || p.CreationTime)],
  ], parts));
});

function definition(version) {
  // The parts of a version worth comparing, as lines of text.
  const v = version.table || version;
  const lines = [];
  for (const c of v.columns || []) lines.push(`column ${c.name} ${c.type}${c.comment ? ` -- ${c.comment}` : ''}`);
  for (const c of v.partition_keys || []) lines.push(`partition key ${c.name} ${c.type}`);
  if (v.location !== undefined) lines.push(`location ${v.location}`);
  for (const [k, val] of Object.entries(v.parameters || {})) lines.push(`parameter ${k} = ${val}`);
  if (v.format) for (const [k, val] of Object.entries(v.format)) if (val !== null && val !== '' && !(Array.isArray(val) && !val.length)) lines.push(`format ${k} = ${JSON.stringify(val)}`);
  if (v.description) lines.push(`description ${v.description}`);
  return lines;
}

function diff(older, newer) {
  const before = new Set(older);
  const after = new Set(newer);
  const out = [];
  for (const line of newer) out.push(h('div', { class: before.has(line) ? 'same' : 'added' }, `${before.has(line) ? '  ' : '+ '}${line}`));
  for (const line of older) if (!after.has(line)) out.push(h('div', { class: 'removed' }, `- ${line}`));
  return h('pre', { class: 'diff' }, out);
}

section('#versions', async () => {
  const versions = await all(`${base}/versions`, 'TableVersions', 100);
  const show = (i) => {
    const v = versions[i];
    const previous = versions[i + 1];
    fill('#diff', h('h3', {}, previous ? `Version ${previous.version} → ${v.version}` : `Version ${v.version} (the first)`),
      diff(previous ? definition(previous) : [], definition(v)));
  };
  fill('#versions', table([
    ['Version', (v) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); show(versions.indexOf(v)); } }, String(v.version))],
    ['Created', (v) => when(v.created_at)],
    ['By', (v) => v.created_by || ''],
    ['Columns', (v) => String(((v.table || v).columns || []).length)],
  ], versions, { empty: 'No versions.' }));
  if (versions.length) show(0);
});
