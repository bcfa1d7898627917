// The one way pages talk to the server: fetch the API's JSON with the session cookie.
// A 401 sends the browser to /login; any other error becomes an ApiError with the API's one error shape.

export const API = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message, hint) {
    super(message);
    this.status = status;
    this.code = code || '';
    this.hint = hint || '';
  }

  // One clear line for the page.
  line() {
    if (this.status === 403) return `Access denied: ${this.message}`;
    if (this.code === 'NotServed') return this.message;
    return this.code ? `${this.code}: ${this.message}` : this.message;
  }
}

function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

let routesPromise = null;

// The API's routes, from its OpenAPI document: pages never call a route the server does not serve.
export function routes() {
  if (!routesPromise) {
    routesPromise = fetch(`${API}/openapi.json`, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : { paths: {} }))
      .then((doc) => doc.paths || {})
      .catch(() => ({}));
  }
  return routesPromise;
}

// Whether METHOD PATH (an OpenAPI template such as /jobs/{name}) is served.
export async function served(method, template) {
  const paths = await routes();
  const ops = paths[API + template];
  return Boolean(ops && ops[method.toLowerCase()]);
}

// Throws a clear error when the route is not served (yet).
export async function need(method, template) {
  if (!(await served(method, template))) {
    throw new ApiError(0, 'NotServed', `Not available: this server has no API route ${method} ${API}${template}`);
  }
}

export async function request(path, { method = 'GET', body, raw = false, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    if (body instanceof Blob || body instanceof ArrayBuffer) {
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (err) {
    throw new ApiError(0, 'NetworkError', `The server did not answer (${err.message})`);
  }
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, 'Unauthorized', 'Your session has ended: signing in again');
  }
  if (!response.ok) {
    let error = null;
    try {
      error = (await response.json()).error;
    } catch {
      error = null;
    }
    throw new ApiError(response.status, error?.code, error?.message || `${method} ${path}: HTTP ${response.status}`, error?.hint);
  }
  if (raw) return response;
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

export const get = (path) => request(path);
export const post = (path, body = {}) => request(path, { method: 'POST', body });

// GET a route only when it is served; the route template is checked against the OpenAPI document.
export async function getIf(template, path) {
  await need('GET', template);
  return get(path);
}

// Every item of a paged list (?limit=&next_token=), up to `max` items.
export async function all(path, key, max = 1000) {
  const items = [];
  let token = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=1000${token ? `&next_token=${encodeURIComponent(token)}` : ''}`);
    items.push(...(page[key] || []));
    token = page.nextToken;
  } while (token && items.length < max);
  return items;
}

export const enc = encodeURIComponent;

// The first list in a response (list routes answer {SomeItems: [...], nextToken}).
export function listOf(response) {
  if (Array.isArray(response)) return response;
  for (const value of Object.values(response || {})) if (Array.isArray(value)) return value;
  return [];
}

// The first of `templates` this server serves (GET), or null.
export async function firstServed(...templates) {
  for (const template of templates) if (await served('GET', template)) return template;
  return null;
}
