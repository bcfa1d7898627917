// Notifications (SNS): topics, their subscriptions, the outbox of published messages and their deliveries.
import { enc, get, getIf, listOf, served } from '../api.js';
import { autoTable, fill, h, note, section } from '../dom.js';

const topicName = (t) => t.Name || t.name || (t.TopicArn || t.arn || '').split(':').pop();

async function subscriptions(name) {
  fill('#subs-title', `Subscriptions of ${name}`);
  await section('#subscriptions', async () => {
    const list = listOf(await get(`/notify/topics/${enc(name)}/subscriptions`));
    fill('#subscriptions', autoTable(list, { prefer: ['Protocol', 'Endpoint', 'SubscriptionArn'], empty: 'No subscriptions.' }));
  });
}

const topicLink = (t) => h('a', { href: `#${enc(topicName(t))}`, onclick: (e) => { e.preventDefault(); subscriptions(topicName(t)); } }, topicName(t));

section('#topics', async () => {
  const topics = listOf(await getIf('/notify/topics', '/notify/topics?limit=1000'));
  fill('#topics', autoTable(topics, {
    prefer: ['name', 'Name', 'arn', 'TopicArn'],
    cells: { Name: topicLink, name: topicLink },
    empty: 'No topics yet (lakeport notify create-topic NAME).',
  }));
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = topics.find((t) => topicName(t) === wanted) || topics[0];
  if (first) await subscriptions(topicName(first));
});

section('#deliveries', async () => {
  const parts = [];
  if (await served('GET', '/notify/outbox')) {
    const messages = listOf(await get('/notify/outbox?limit=50'));
    parts.push(h('h3', {}, 'Outbox (published messages)'), autoTable(messages, { prefer: ['id', 'topic', 'subject', 'published_at'], empty: 'Nothing published yet.' }));
  }
  if (await served('GET', '/notify/deliveries')) {
    const deliveries = listOf(await get('/notify/deliveries?limit=50'));
    parts.push(h('h3', {}, 'Deliveries'), autoTable(deliveries, { prefer: ['message_id', 'subscription', 'status', 'attempts'], empty: 'No deliveries yet.' }));
  }
  if (await served('GET', '/notify/dead-letters')) {
    const dead = listOf(await get('/notify/dead-letters?limit=50'));
    parts.push(h('h3', {}, 'Dead letters'), autoTable(dead, { empty: 'No dead letters.' }));
  }
  if (parts.length) fill('#deliveries', parts);
  else note('#deliveries', 'The outbox is not served by this API yet (GET /api/v1/notify/outbox).');
});
