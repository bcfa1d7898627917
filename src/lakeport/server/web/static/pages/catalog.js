// Catalog: databases, their tables, and a search over tables and columns (Glue Data Catalog).
import { all, enc } from '../api.js';
import { $, fill, h, link, note, section, table, when } from '../dom.js';

const tableLink = (t) => link(`/catalog/${enc(t.DatabaseName)}/${enc(t.Name)}`, t.Name);

function tables(list, empty) {
  return table([
    ['Table', tableLink],
    ['Database', (t) => t.DatabaseName],
    ['Kind', (t) => t.Parameters?.table_type || t.Parameters?.classification || t.TableType],
    ['Columns', (t) => String(t.StorageDescriptor?.Columns?.length ?? '')],
    ['Partition keys', (t) => (t.PartitionKeys || []).map((k) => k.Name).join(', ')],
    ['Updated', (t) => when(t.UpdateTime || t.CreateTime)],
  ], list, { empty });
}

async function open(database) {
  history.replaceState(null, '', `#${database}`);
  for (const a of document.querySelectorAll('#databases a')) a.classList.toggle('selected', a.dataset.db === database);
  fill('#tables-title', `Tables in ${database}`);
  await section('#tables', async () => {
    const list = await all(`/catalog/databases/${enc(database)}/tables`, 'TableList');
    fill('#tables', tables(list, 'This database has no tables.'));
  });
}

section('#databases', async () => {
  const list = await all('/catalog/databases', 'DatabaseList');
  fill('#databases', table([
    ['Database', (d) => h('a', { href: `#${enc(d.Name)}`, dataset: { db: d.Name }, onclick: (e) => { e.preventDefault(); open(d.Name); } }, d.Name)],
    ['Description', (d) => d.Description || ''],
  ], list, { empty: 'No databases yet.' }));
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = list.find((d) => d.Name === wanted) || list.find((d) => d.Name !== 'default') || list[0];
  if (first) await open(first.Name);
});

$('#search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('#text').value.trim();
  if (!text) return;
  fill('#tables-title', `Tables matching “${text}”`);
  note('#tables', 'Searching…');
  await section('#tables', async () => {
    const found = await all(`/catalog/search?text=${enc(text)}`, 'TableList');
    fill('#tables', tables(found, 'No table matches.'));
  });
});
