// Storage: buckets, prefixes and objects (S3), upload, download, and a preview of CSV/JSON/Parquet objects.
import { enc, get, request } from '../api.js';
import { $, bytes, dataGrid, fill, h, note, section, showError, table, when } from '../dom.js';

let bucket = null;
let prefix = '';

async function buckets() {
  const { Buckets } = await get('/storage/buckets');
  fill('#buckets', table([['Bucket', (b) => h('a', { href: `#${enc(b.Name)}/`, onclick: open(b.Name, '') }, b.Name)]], Buckets, { empty: 'No buckets.' }));
  const [wanted, ...rest] = decodeURIComponent(location.hash.slice(1)).split('/');
  const first = Buckets.find((b) => b.Name === wanted) || Buckets[0];
  if (first) await list(first.Name, wanted === first.Name ? rest.join('/') : '');
}

const open = (name, where) => (event) => {
  event.preventDefault();
  list(name, where);
};

async function list(name, where) {
  bucket = name;
  prefix = where;
  history.replaceState(null, '', `#${name}/${where}`);
  const crumbs = [h('a', { href: `#${enc(name)}/`, onclick: open(name, '') }, name)];
  let sofar = '';
  for (const part of where.split('/').filter(Boolean)) {
    sofar += `${part}/`;
    crumbs.push(' / ', h('a', { href: `#${enc(name)}/${sofar}`, onclick: open(name, sofar) }, part));
  }
  fill('#where', ...crumbs);
  $('#upload').hidden = false;
  await section('#objects', async () => {
    const page = await get(`/storage/buckets/${enc(name)}/objects?delimiter=/&prefix=${enc(where)}`);
    const folders = (page.CommonPrefixes || []).map((p) => ({ folder: p.Prefix }));
    const files = (page.Contents || []).map((o) => ({ file: o }));
    fill('#objects', table([
      ['Name', (r) => (r.folder
        ? h('a', { href: `#${enc(name)}/${r.folder}`, onclick: open(name, r.folder) }, r.folder.slice(where.length))
        : h('a', { href: '#', onclick: (e) => { e.preventDefault(); preview(r.file.Key); } }, r.file.Key.slice(where.length)))],
      ['Size', (r) => (r.file ? bytes(r.file.Size) : 'folder')],
      ['Modified', (r) => (r.file ? when(r.file.LastModified) : '')],
      ['', (r) => (r.file ? h('a', { href: `/api/v1/storage/buckets/${enc(name)}/objects/download?key=${enc(r.file.Key)}`, download: '' }, 'Download') : '')],
    ], [...folders, ...files], { empty: 'This prefix is empty.' }));
  });
}

async function preview(key) {
  note('#preview', `Loading ${key}…`);
  await section('#preview', async () => {
    if (!/\.(csv|tsv|json|jsonl|ndjson|parquet)(\.gz)?$/i.test(key)) {
      note('#preview', `${key}: no preview for this kind of object (CSV, JSON and Parquet have one).`);
      return;
    }
    const found = await get(`/storage/buckets/${enc(bucket)}/objects/preview?key=${enc(key)}&limit=20`);
    fill('#preview', h('p', { class: 'muted' }, key), dataGrid(found.columns, found.rows));
  });
}

$('#upload').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = $('#file').files[0];
  if (!file || !bucket) return;
  try {
    await request(`/storage/buckets/${enc(bucket)}/objects?key=${enc(prefix + file.name)}`, {
      method: 'PUT', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' },
    });
    await list(bucket, prefix);
  } catch (err) {
    showError(err);
  }
});

section('#buckets', buckets);
