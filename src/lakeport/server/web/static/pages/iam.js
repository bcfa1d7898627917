// IAM: users, roles, policies and the policy simulator.
import { enc, firstServed, get, listOf, post, served } from '../api.js';
import { $, autoTable, fill, h, json, note, section, showError } from '../dom.js';

async function list(target, templates, options) {
  await section(target, async () => {
    const route = await firstServed(...templates);
    if (!route) {
      note(target, `Not served by this API yet (GET /api/v1${templates[0]}).`);
      return;
    }
    fill(target, autoTable(listOf(await get(route)), options));
  });
}

const nameOf = (p) => p.PolicyName || p.name || p.Name || '';

const principalLink = (kind, key) => (p) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); principal(kind, p[key]); } }, p[key]);

list('#users', ['/iam/users'], { prefer: ['UserName', 'Arn', 'CreateDate'], cells: { UserName: principalLink('users', 'UserName') }, empty: 'No users.' });
list('#roles', ['/iam/roles'], { prefer: ['RoleName', 'Arn', 'CreateDate'], cells: { RoleName: principalLink('roles', 'RoleName') }, empty: 'No roles.' });

// A user's or role's inline and attached policies; a click shows a document.
async function principal(kind, name) {
  fill('#principal-title', `Policies of ${kind === 'users' ? 'user' : 'role'} ${name}`);
  $('#policy').hidden = true;
  await section('#principal', async () => {
    const base = `/iam/${kind}/${enc(name)}`;
    const inline = listOf(await get(`${base}/policies`));
    const attached = listOf(await get(`${base}/attached-policies`));
    const open = (policy) => h('a', { href: '#', onclick: async (e) => {
      e.preventDefault();
      try {
        const found = await get(`${base}/policies/${enc(policy)}`);
        const pre = $('#policy');
        pre.textContent = json(found.PolicyDocument);
        pre.hidden = false;
      } catch (err) {
        showError(err);
      }
    } }, policy);
    fill('#principal',
      h('h3', {}, 'Inline policies'), inline.length ? h('ul', {}, inline.map((p) => h('li', {}, open(p)))) : h('p', { class: 'muted' }, 'None.'),
      h('h3', {}, 'Attached managed policies'), autoTable(attached, { empty: 'None.' }));
  });
}

section('#policies', async () => {
  const route = await firstServed('/iam/policies');
  if (!route) {
    note('#policies', 'Not served by this API yet (GET /api/v1/iam/policies).');
    return;
  }
  const policies = listOf(await get(route));
  const detail = await firstServed('/iam/policies/{policy}');
  fill('#policies', autoTable(policies, {
    prefer: ['PolicyName', 'name', 'Arn', 'arn', 'Description'],
    cells: { PolicyName: (p) => (detail ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); show(nameOf(p)); } }, nameOf(p)) : nameOf(p)) },
    empty: 'No managed policies.',
  }));
});

async function show(name) {
  try {
    const found = await get(`/iam/policies/${enc(name)}`);
    const pre = $('#policy');
    pre.textContent = json(found.Policy?.PolicyDocument || found.Policy?.Document || found.Policy || found);
    pre.hidden = false;
  } catch (err) {
    showError(err);
  }
}

$('#simulate').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!(await served('POST', '/iam/simulate'))) {
    note('#sim-result', 'The simulator is not served by this API yet (POST /api/v1/iam/simulate).');
    return;
  }
  try {
    const body = { Principal: $('#sim-principal').value.trim(), Action: $('#sim-action').value.trim(), Resource: $('#sim-resource').value.trim() || '*' };
    const found = await post('/iam/simulate', body);
    fill('#sim-result', h('p', {}, h('span', { class: `badge ${found.Allowed ? 'good' : 'bad'}` }, found.Decision), ' ',
      h('code', {}, found.Action), ' on ', h('code', {}, found.Resource), ' for ', h('code', {}, found.Principal)),
    h('p', { class: 'muted' }, found.Policy ? `decided by ${found.Policy}${found.Statement ? ` (statement ${typeof found.Statement === 'string' ? found.Statement : JSON.stringify(found.Statement)})` : ''}` : 'no policy allows it'));
  } catch (err) {
    showError(err, '#sim-result');
  }
});
