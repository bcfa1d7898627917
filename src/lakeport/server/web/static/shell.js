// What every signed-in page does: say who is signed in, and sign out.
import { get, post } from './api.js';
import { $ } from './dom.js';

async function who() {
  try {
    const me = await get('/whoami');
    $('#who').textContent = me.UserId;
    $('#who').title = me.Arn;
  } catch {
    // the page itself reports errors
  }
}

$('#logout')?.addEventListener('click', async () => {
  try {
    await post('/logout');
  } finally {
    location.assign('/login');
  }
});

who();
