// Jobs: every job with its last run (Glue jobs).
import { enc, get, getIf } from '../api.js';
import { badge, every, fill, link, table, when } from '../dom.js';

every(1000, async () => {
  const { Jobs } = await getIf('/jobs', '/jobs?limit=1000');
  const rows = await Promise.all(Jobs.map(async (job) => ({ job, run: (await get(`/jobs/${enc(job.name)}/runs?limit=1`)).JobRuns[0] })));
  fill('#jobs', table([
    ['Job', (r) => link(`/jobs/${enc(r.job.name)}`, r.job.name)],
    ['Kind', (r) => r.job.kind],
    ['Description', (r) => r.job.description || ''],
    ['Nodes', (r) => String((r.job.nodes || []).length)],
    ['Last run', (r) => (r.run ? badge(r.run.JobRunState) : 'never run')],
    ['Started', (r) => when(r.run?.StartedOn)],
    ['Seconds', (r) => (r.run ? String(r.run.ExecutionTime) : '')],
  ], rows, { empty: 'No jobs yet (lakeport jobs create NAME --from job.yaml).' }));
  return rows.some((r) => ['RUNNING', 'STARTING', 'STOPPING', 'WAITING'].includes(r.run?.JobRunState));
});
