// The audit log (CloudTrail): who called what, on which resource, allowed or denied.
import { firstServed, get, listOf } from '../api.js';
import { autoTable, fill, note, section } from '../dom.js';

section('#audit', async () => {
  const route = await firstServed('/audit', '/iam/audit', '/audit/events');
  if (!route) {
    note('#audit', 'The audit log is not served by this API yet (GET /api/v1/audit).');
    return;
  }
  const events = listOf(await get(`${route}?limit=200`));
  fill('#audit', autoTable(events, { prefer: ['time', 'EventTime', 'principal', 'Username', 'action', 'EventName', 'resource', 'decision', 'allowed'], max: 8, empty: 'No calls recorded yet.' }));
});
