// State machines: every machine with its last execution, and the rules and schedules that start them.
import { enc, get, listOf, served } from '../api.js';
import { autoTable, badge, every, fill, link, note, section, table, when } from '../dom.js';

every(1000, async () => {
  const { stateMachines } = await get('/states/machines?limit=1000');
  const rows = await Promise.all(stateMachines.map(async (m) => ({ m, e: (await get(`/states/machines/${enc(m.name)}/executions?limit=1`)).executions[0] })));
  fill('#machines', table([
    ['State machine', (r) => link(`/states/${enc(r.m.name)}`, r.m.name)],
    ['Type', (r) => r.m.type],
    ['Created', (r) => when(r.m.creationDate)],
    ['Last execution', (r) => (r.e ? link(`/states/${enc(r.m.name)}#${enc(r.e.name)}`, r.e.name) : 'never run')],
    ['Status', (r) => (r.e ? badge(r.e.status) : '')],
    ['Started', (r) => when(r.e?.startDate)],
  ], rows, { empty: 'No state machines yet (lakeport states create NAME --definition machine.asl.json).' }));
  return rows.some((r) => r.e?.status === 'RUNNING');
});

for (const [target, route, prefer] of [
  ['#rules', '/triggers/rules', ['Name', 'State', 'EventPattern', 'ScheduleExpression']],
  ['#schedules', '/triggers/schedules', ['Name', 'State', 'ScheduleExpression']],
]) {
  section(target, async () => {
    if (!(await served('GET', route))) {
      note(target, `Not served by this API yet (GET /api/v1${route}).`);
      return;
    }
    fill(target, autoTable(listOf(await get(`${route}?limit=1000`)), { prefer, empty: 'None yet.' }));
  });
}
