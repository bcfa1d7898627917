// Sign in: POST /api/v1/login with an access key sets the session cookie; then go where the visitor was headed.
import { $ } from '../dom.js';

function fail(text) {
  const bar = $('#error');
  bar.textContent = text;
  bar.hidden = false;
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { accessKeyId: $('#key').value.trim(), secretAccessKey: $('#secret').value };
  let response;
  try {
    response = await fetch('/api/v1/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    fail(`The server did not answer (${err.message})`);
    return;
  }
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      error = {};
    }
    fail(`Sign-in failed: ${error.code ? `${error.code}: ` : ''}${error.message || `HTTP ${response.status}`}`);
    return;
  }
  const next = new URLSearchParams(location.search).get('next') || '/';
  location.assign(next.startsWith('/') && !next.startsWith('//') ? next : '/');
});
