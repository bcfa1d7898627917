// Crawlers: definitions, state, start/stop, crawls with their summary and per-file warnings (Glue crawlers).
import { all, enc, get, getIf, post } from '../api.js';
import { badge, code, every, fill, h, json, note, section, showError, table, when } from '../dom.js';

let chosen = decodeURIComponent(location.hash.slice(1));
let stopPolling = null;
let opened = null;

async function act(name, verb) {
  try {
    await post(`/crawlers/${enc(name)}/${verb}`);
    watch();
  } catch (err) {
    showError(err);
  }
}

async function draw() {
  const { Crawlers } = await getIf('/crawlers', '/crawlers?limit=1000');
  fill('#crawlers', table([
    ['Crawler', (c) => h('a', { href: `#${enc(c.Name)}`, onclick: (e) => { e.preventDefault(); choose(c.Name); } }, c.Name)],
    ['State', (c) => badge(c.State)],
    ['Database', (c) => c.DatabaseName],
    ['Targets', (c) => (c.Targets?.S3Targets || []).map((t) => t.Path).join(', ')],
    ['Last crawl', (c) => (c.LastCrawl ? badge(c.LastCrawl.Status) : 'never')],
    ['', (c) => (c.State === 'READY'
      ? h('button', { type: 'button', onclick: () => act(c.Name, 'start') }, 'Start')
      : h('button', { type: 'button', onclick: () => act(c.Name, 'stop') }, 'Stop'))],
  ], Crawlers, { empty: 'No crawlers yet (lakeport crawlers create).' }));
  if (!chosen && Crawlers.length) chosen = Crawlers[0].Name;
  if (chosen) await runs(chosen);
  return Crawlers.some((c) => c.State !== 'READY');
}

async function runs(name) {
  fill('#runs-title', `Crawls of ${name}`);
  const crawls = await all(`/crawlers/${enc(name)}/runs`, 'Crawls', 50);
  fill('#runs', table([
    ['Crawl', (r) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); crawl(name, r.CrawlId); } }, r.CrawlId)],
    ['State', (r) => badge(r.State)],
    ['Started', (r) => when(r.StartTime)],
    ['Ended', (r) => when(r.EndTime)],
    ['Error', (r) => r.ErrorMessage || ''],
  ], crawls, { empty: 'Never crawled.' }));
  if (crawls.length && opened !== name && crawls[0].State !== 'RUNNING') {
    opened = name;
    await crawl(name, crawls[0].CrawlId);
  }
}

async function crawl(name, id) {
  await section('#run', async () => {
    const found = await get(`/crawlers/${enc(name)}/runs/${enc(id)}`);
    const warnings = found.Warnings || [];
    fill('#run', h('h3', {}, `Crawl ${id}`), code(json(found.Summary)),
      h('h3', {}, `Warnings (${warnings.length})`),
      warnings.length ? table([['File', (w) => w.file || w.path || w.key || ''], ['Warning', (w) => w.message || w.warning || JSON.stringify(w)]], warnings) : h('p', { class: 'muted' }, 'No warnings.'));
  });
}

function choose(name) {
  chosen = name;
  history.replaceState(null, '', `#${name}`);
  note('#run', '');
  section('#runs', () => runs(name));
}

function watch() {
  if (stopPolling) stopPolling();
  stopPolling = every(1000, draw);
}

watch();
