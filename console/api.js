// The console's only way to the server: the public REST API, as the signed-in admin.
//
// The session lives in this module's memory alone: no cookie and no web storage, so no
// other script (of another origin, or a later page) can read a token. The access token is renewed with
// the refresh token shortly before it expires; each refresh token works once and the answer brings the
// next (rotation). Reloading the page ends nothing on the server but forgets the tokens: sign in again.

/** A problem answer (RFC 9457) from the API. */
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code;
    this.title = body?.title;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
  }
}

/** The pipelines a webhook endpoint can run, as the API names them. */
export const pipelines = ['commitments', 'security_review', 'change_summary'];

let session = null;
let lastRateLimit = null;
let renewal = null;
const listeners = new Set();

/** Calls `listener(signedIn)` whenever the session starts or ends. */
export function onSessionChange(listener) { listeners.add(listener); }
export function signedIn() { return session !== null; }
/** Whether the session is an operator's (a token minted with `controlplane operator-token`). */
export function operator() { return session?.operator === true; }

/** Makes `next` the session (null: none), and tells the listeners. */
function become(next) {
  session = next;
  clearTimeout(renewal);
  listeners.forEach((listener) => listener(next !== null));
}

function start(tokens) {
  become({ access: tokens.access_token, refresh: tokens.refresh_token, operator: false });
  // Renewed a little before the access token expires (at least 5 s from now).
  const seconds = Math.max(5, tokens.expires_in - 30);
  renewal = setTimeout(() => { renew().catch(() => become(null)); }, seconds * 1000);
}

async function send(method, path, body, token, credentials = 'omit') {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials, cache: 'no-store',
  });
  const limit = response.headers.get('RateLimit-Limit');
  const remaining = response.headers.get('RateLimit-Remaining');
  if (limit !== null && remaining !== null) lastRateLimit = { limit: Number(limit), remaining: Number(remaining) };
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!response.ok) throw new Problem(response.status, parsed);
  return parsed;
}

/** The rate limit as the last answer stated it (`RateLimit-Limit`, `RateLimit-Remaining`), or null. */
export function rateLimit() { return lastRateLimit; }

/** Signs in with an email and password. */
export async function signIn(email, password) {
  start(await send('POST', '/v1/auth/login', { email, password }));
}

/** The ways to sign in the deployment offers (`{password, github}`). */
export function signInMethods() {
  return send('GET', '/v1/auth/methods');
}

/** Finishes signing in with GitHub: the code and state GitHub sent back, with this browser's binding
 *  cookie (set by the start; the only call that sends a cookie). */
export async function finishGitHubSignIn(code, state) {
  const query = new URLSearchParams({ code, state });
  start(await send('GET', `/v1/auth/github/callback?${query}`, undefined, undefined, 'same-origin'));
}

/** Accepts an invitation with a password of the invitee's own; the answer is their first session. */
export async function acceptInvitation(token, password) {
  start(await send('POST', '/v1/auth/accept-invitation', { token, password }));
}

/** Uses an operator token, once the server has taken it (it is not renewed: a new one is minted). */
export async function useOperatorToken(token) {
  await send('GET', '/v1/admin/health', undefined, token);
  become({ access: token, refresh: null, operator: true });
}

/** Exchanges the refresh token for the next pair; a refused one ends the session. */
async function renew() {
  if (!session?.refresh) throw new Problem(401, null);
  try {
    start(await send('POST', '/v1/auth/refresh', { refresh_token: session.refresh }));
  } catch (error) {
    if (error instanceof Problem && error.status === 401) become(null);
    throw error;
  }
}

/** Ends the session on every replica, then here. */
export async function signOut() {
  const current = session;
  become(null);
  if (current?.refresh) await send('POST', '/v1/auth/logout', { refresh_token: current.refresh }).catch(() => {});
}

/** A call as the signed-in admin; an expired access token is renewed once and the call made again. */
export async function call(method, path, body) {
  if (!session) throw new Problem(401, null);
  try {
    return await send(method, path, body, session.access);
  } catch (error) {
    if (!(error instanceof Problem) || error.status !== 401 || !session?.refresh) throw error;
    await renew();
    return send(method, path, body, session.access);
  }
}
