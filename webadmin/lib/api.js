// The one way the pages talk to the server (doc/api.md): JSON in and out,
// the session cookie, and the CSRF token on every change.  Failures become
// an ApiError carrying the server's own words and the field they are about.

export class ApiError extends Error {
  constructor(status, message, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
  }
}

let csrfToken = '';
let unauthorizedHandler = () => {};

/** The token of the login or session answer; sent with every change. */
export function setCsrfToken(token) {
  csrfToken = token || '';
}

/** Called with the error when a request answers 401 (the session is gone). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/**
 * api('GET', path) / api('POST', path, body): the parsed JSON answer, or
 * null for 204.  Throws ApiError; an aborted request throws the
 * AbortError unchanged (isAbort() tells).
 */
export async function api(method, path, body, { signal, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = csrfToken;
    headers['Content-Type'] = 'application/json';
  }
  if (body !== undefined) init.body = JSON.stringify(body);

  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, 'Cannot reach the server: check the connection, then try again.');
  }
  const data = await readJson(response);
  if (response.ok) return data;

  const error = new ApiError(response.status, errorText(response.status, data),
                             data && typeof data.field === 'string' ? data.field : null);
  if (response.status === 401 && !quiet401) {
    error.sessionEnded = true; // the handler shows the login form; callers stay quiet
    unauthorizedHandler(error);
  }
  throw error;
}

export function isAbort(err) {
  return err && err.name === 'AbortError';
}

async function readJson(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  if (!type.includes('json')) return null;
  try {
    return await response.json();
  } catch (err) {
    if (isAbort(err)) throw err; // the page was left while the answer was still arriving
    return null;
  }
}

const fallbackText = {
  400: 'The server did not accept this input.',
  401: 'Your session has ended: log in again.',
  403: 'You have no right to do this. If you think you do, reload the page and try again.',
  404: 'Not found: it may have been removed meanwhile.',
  405: 'The server does not take this request.',
  409: 'It exists already, or is still in use.',
  413: 'This is more than the server takes in one request.',
  503: 'The server could not reach its store: try again in a moment.',
};

function errorText(status, data) {
  if (data && typeof data.error === 'string' && data.error) return data.error;
  return fallbackText[status] || `The server answered with status ${status}: try again.`;
}

/**
 * A path with each interpolated value URL-encoded as one segment:
 * path`/api/accounts/${address}/mailboxes/${name}` (a '/' in a mailbox
 * name becomes %2F, as doc/api.md asks).
 */
export function path(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ''), '');
}

/** '?a=1&b=x' from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The items of a list answer ({items, total, offset}); a bare array is taken as it is. */
export function listItems(answer) {
  if (Array.isArray(answer)) return answer;
  return (answer && Array.isArray(answer.items)) ? answer.items : [];
}

/** The total of a list answer, falling back to the number of items. */
export function listTotal(answer) {
  if (answer && Number.isFinite(answer.total)) return answer.total;
  return listItems(answer).length;
}
