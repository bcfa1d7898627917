// Dashboards: every dashboard with its sheets and how many visuals it has (QuickSight's list of dashboards).
import { enc, getIf } from '../api.js';
import { fill, h, link, section, table, when } from '../dom.js';

section('#dashboards', async () => {
  const { DashboardSummaryList: boards } = await getIf('/dashboards', '/dashboards');
  fill('#dashboards', table([
    ['Dashboard', (d) => link(`/dashboards/${enc(d.DashboardId)}`, d.Name || d.DashboardId)],
    ['Id', (d) => h('code', {}, d.DashboardId)],
    ['Sheets', (d) => h('span', {}, (d.Sheets || []).map((sheet, i) => [i ? ' · ' : '', link(`/dashboards/${enc(d.DashboardId)}#sheet=${enc(sheet)}`, sheet)]))],
    ['Visuals', (d) => String(d.Visuals ?? '')],
    ['Version', (d) => String(d.VersionNumber ?? '')],
    ['Updated', (d) => when(d.LastUpdatedTime)],
  ], boards || [], { empty: 'No dashboards yet (lakeport dashboards create --from dashboard.yaml).' }));
});
