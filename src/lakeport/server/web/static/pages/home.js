// Home: the pipeline at a glance — last runs of each job, crawler and state machine, alarms in ALARM, queries.
import { enc, get, getIf, served } from '../api.js';
import { badge, fill, link, note, section, table, when } from '../dom.js';

// The failures among what the sections below show (the last run of each job, crawler and machine; recent
// queries), newest first.
const failures = [];
let pending = 4;
function failed(kind, name, href, at, why) {
  failures.push({ kind, name, href, at, why });
}
function sectionDone() {
  pending -= 1;
  if (pending > 0) return;
  failures.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  fill('#failures', table([
    ['What', (f) => f.kind],
    ['Name', (f) => link(f.href, f.name)],
    ['When', (f) => when(f.at)],
    ['Why', (f) => (f.why && f.why.length > 140 ? `${f.why.slice(0, 139)}…` : f.why || '')],
  ], failures, { empty: 'Nothing failed lately.' }));
}

section('#jobs', async () => {
  try {
    await jobs();
  } finally {
    sectionDone();
  }
});

async function jobs() {
  const { Jobs } = await getIf('/jobs', '/jobs?limit=50');
  const rows = await Promise.all(
    Jobs.map(async (job) => {
      const runs = (await get(`/jobs/${enc(job.name)}/runs?limit=1`)).JobRuns;
      return { job, run: runs[0] };
    }),
  );
  fill('#jobs', table([
    ['Job', (r) => link(`/jobs/${enc(r.job.name)}`, r.job.name)],
    ['Last run', (r) => (r.run ? badge(r.run.JobRunState) : 'never run')],
    ['Started', (r) => when(r.run?.StartedOn)],
    ['Error', (r) => r.run?.ErrorMessage || ''],
  ], rows, { empty: 'No jobs yet.', rowClass: (r) => (r.run?.JobRunState === 'FAILED' ? 'failed' : null) }));
  for (const r of rows) if (r.run?.JobRunState === 'FAILED') failed('job run', r.job.name, `/jobs/${enc(r.job.name)}`, r.run.StartedOn, r.run.ErrorMessage);
}

section('#crawlers', async () => {
  try {
    await crawlers();
  } finally {
    sectionDone();
  }
});

async function crawlers() {
  const { Crawlers } = await getIf('/crawlers', '/crawlers?limit=50');
  fill('#crawlers', table([
    ['Crawler', (c) => link(`/crawlers#${enc(c.Name)}`, c.Name)],
    ['State', (c) => badge(c.State)],
    ['Last crawl', (c) => (c.LastCrawl ? badge(c.LastCrawl.Status) : 'never')],
    ['Started', (c) => when(c.LastCrawl?.StartTime)],
  ], Crawlers, { empty: 'No crawlers yet.', rowClass: (c) => (c.LastCrawl?.Status === 'FAILED' ? 'failed' : null) }));
  for (const c of Crawlers) if (c.LastCrawl?.Status === 'FAILED') failed('crawl', c.Name, `/crawlers#${enc(c.Name)}`, c.LastCrawl.StartTime, c.LastCrawl.ErrorMessage);
}

section('#machines', async () => {
  try {
    await machines();
  } finally {
    sectionDone();
  }
});

async function machines() {
  const { stateMachines } = await get('/states/machines?limit=50');
  const rows = await Promise.all(
    stateMachines.map(async (m) => ({ m, e: (await get(`/states/machines/${enc(m.name)}/executions?limit=1`)).executions[0] })),
  );
  fill('#machines', table([
    ['State machine', (r) => link(`/states/${enc(r.m.name)}`, r.m.name)],
    ['Last execution', (r) => (r.e ? badge(r.e.status) : 'never run')],
    ['Started', (r) => when(r.e?.startDate)],
  ], rows, { empty: 'No state machines yet.', rowClass: (r) => (r.e?.status === 'FAILED' ? 'failed' : null) }));
  for (const r of rows) if (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(r.e?.status)) failed('execution', `${r.m.name} / ${r.e.name}`, `/states/${enc(r.m.name)}#${enc(r.e.name)}`, r.e.startDate, r.e.status);
}

section('#alarms', async () => {
  if (!(await served('GET', '/alarms'))) {
    note('#alarms', 'Alarms are not served by this API yet (GET /api/v1/alarms).');
    return;
  }
  const alarms = (await get('/alarms?limit=1000')).MetricAlarms || [];
  const firing = alarms.filter((a) => a.StateValue === 'ALARM');
  fill('#alarms', table([
    ['Alarm', (a) => link('/monitoring', a.AlarmName)],
    ['State', (a) => badge(a.StateValue)],
    ['Reason', (a) => a.StateReason || ''],
  ], firing, { empty: 'No alarm is in ALARM.' }));
});

section('#queries', async () => {
  try {
    await queries();
  } finally {
    sectionDone();
  }
});

async function queries() {
  const { QueryExecutions } = await get('/queries?limit=10');
  fill('#queries', table([
    ['Query', (q) => link(`/query#${enc(q.QueryExecutionId)}`, q.Query.length > 90 ? `${q.Query.slice(0, 89)}…` : q.Query)],
    ['State', (q) => badge(q.Status.State)],
    ['Submitted', (q) => when(q.Status.SubmissionDateTime)],
    ['Database', (q) => q.QueryExecutionContext?.Database || ''],
  ], QueryExecutions, { empty: 'No queries yet.', rowClass: (q) => (q.Status.State === 'FAILED' ? 'failed' : null) }));
  for (const q of QueryExecutions) if (q.Status.State === 'FAILED') failed('query', q.QueryExecutionId, `/query#${enc(q.QueryExecutionId)}`, q.Status.SubmissionDateTime, q.Status.StateChangeReason);
}
