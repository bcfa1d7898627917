// Monitoring (CloudWatch): alarms and their history, metrics with a chart of their datapoints, log groups, their
// streams and events with a filter pattern.
import { all, get, listOf, served } from '../api.js';
import { $, autoTable, badge, fill, h, note, section, table, when } from '../dom.js';
import { lineChart } from '../chart.js';

const HOURS = 6; // the chart's window
const dims = (m) => (m.Dimensions || []).map((d) => `${d.Name}=${d.Value}`);

async function notServed(target, template) {
  if (await served('GET', template)) return false;
  note(target, `Not served by this API yet (GET /api/v1${template}).`);
  return true;
}

section('#alarms', async () => {
  if (await notServed('#alarms', '/alarms')) return;
  const alarms = await all('/alarms', 'MetricAlarms');
  fill('#alarms', table([
    ['Alarm', (a) => a.AlarmName],
    ['State', (a) => badge(a.StateValue)],
    ['Metric', (a) => `${a.Namespace || ''} ${a.MetricName || ''}`],
    ['Condition', (a) => (a.ComparisonOperator ? `${a.Statistic || ''} ${a.ComparisonOperator} ${a.Threshold}` : '')],
    ['Reason', (a) => a.StateReason || ''],
  ], alarms, { empty: 'No alarms (lakeport alarms put --from alarms.json).', rowClass: (a) => (a.StateValue === 'ALARM' ? 'failed' : null) }));
});

section('#alarm-history', async () => {
  if (await notServed('#alarm-history', '/alarms/history')) return;
  const items = listOf(await get('/alarms/history?limit=50'));
  fill('#alarm-history', autoTable(items, { prefer: ['Timestamp', 'AlarmName', 'HistoryItemType', 'HistorySummary'], max: 4, empty: 'No alarm history yet.' }));
});

async function chart(metric) {
  fill('#chart-title', `${metric.Namespace} · ${metric.MetricName}`);
  await section('#chart', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - HOURS * 3600 * 1000);
    const params = new URLSearchParams({ namespace: metric.Namespace, metric_name: metric.MetricName, start: start.toISOString(), end: end.toISOString(), period: '60' });
    for (const stat of ['Sum', 'Average', 'Maximum', 'SampleCount']) params.append('statistic', stat);
    for (const d of dims(metric)) params.append('dimension', d);
    const found = await get(`/metrics/statistics?${params}`);
    const points = (found.Datapoints || [])
      .map((p) => [new Date(p.Timestamp).getTime(), Number(p.Average ?? p.Sum ?? 0)])
      .sort((a, b) => a[0] - b[0]);
    fill('#chart', lineChart(points, `average per minute, last ${HOURS} h${dims(metric).length ? ` · ${dims(metric).join(', ')}` : ''}`, { width: 720 }),
      h('p', { class: 'muted' }, `${points.length} datapoints${found.Label ? ` · ${found.Label}` : ''}`));
  });
}

section('#metrics', async () => {
  if (await notServed('#metrics', '/metrics')) {
    note('#chart', '');
    return;
  }
  const metrics = await all('/metrics', 'Metrics', 500);
  fill('#metrics', table([
    ['Namespace', (m) => m.Namespace],
    ['Metric', (m) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); chart(m); } }, m.MetricName)],
    ['Dimensions', (m) => dims(m).join(', ')],
  ], metrics, { empty: 'No metrics yet: runs, crawls and queries record them.' }));
  if (metrics.length) await chart(metrics.find((m) => m.Namespace === 'AWS/Athena') || metrics[0]);
});

let group = null;

async function events() {
  const stream = $('#stream').value;
  const pattern = $('#pattern').value.trim();
  await section('#events', async () => {
    let found;
    if (pattern || !stream) {
      const params = new URLSearchParams({ group, limit: '500' });
      if (pattern) params.set('pattern', pattern);
      if (stream) params.append('stream', stream);
      found = await get(`/logs/events/filter?${params}`);
    } else {
      found = await get(`/logs/events?${new URLSearchParams({ group, stream, limit: '500', start_from_head: 'true' })}`);
    }
    const list = found.events || [];
    fill('#events', table([
      ['Time', (e) => when(e.timestamp)],
      ['Stream', (e) => e.logStreamName || stream],
      ['Message', (e) => h('code', {}, e.message)],
    ], list, { empty: pattern ? 'No event matches the pattern.' : 'No events.' }));
  });
}

async function openGroup(name) {
  group = name;
  fill('#events-title', `Log events of ${name}`);
  await section('#events', async () => {
    const { logStreams } = await get(`/logs/streams?${new URLSearchParams({ group: name, order_by: 'LastEventTime', descending: 'true' })}`);
    const select = $('#stream');
    select.replaceChildren(h('option', { value: '' }, 'all streams'), ...logStreams.map((s) => h('option', { value: s.logStreamName }, `${s.logStreamName} (${when(s.lastEventTimestamp)})`)));
    if (logStreams.length) select.value = logStreams[0].logStreamName;
    $('#filter').hidden = false;
    await events();
  });
}

$('#filter').addEventListener('submit', (event) => {
  event.preventDefault();
  events();
});
$('#stream').addEventListener('change', () => events());

section('#groups', async () => {
  if (await notServed('#groups', '/logs/groups')) {
    note('#events', '');
    return;
  }
  const { logGroups } = await get('/logs/groups');
  fill('#groups', table([
    ['Log group', (g) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); openGroup(g.logGroupName); } }, g.logGroupName)],
    ['Stored', (g) => `${g.storedBytes ?? 0} B`],
  ], logGroups, { empty: 'No log groups yet.' }));
  if (logGroups.length) await openGroup(logGroups[0].logGroupName);
});
