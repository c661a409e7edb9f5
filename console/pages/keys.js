// API keys: the list, a new key with the scopes it may use (its token shown once), rotation and
// revocation.
import { call } from '../api.js';
import { pagedTable } from '../lists.js';
import { errorNote, fill, h, onSubmit, report, shownOnce, when } from '../dom.js';

export const title = 'API keys';

const scopes = ['tenant:read', 'tenant:admin', 'keys:read', 'keys:write', 'billing:read', 'billing:write',
  'webhooks:read', 'webhooks:write', 'jobs:read', 'jobs:write', 'policy:read', 'policy:write', 'llm:invoke',
  'audit:read', 'interventions:read', 'interventions:write', 'interventions:outcome'];

export async function render(main) {
  const list = h('div');
  const shown = h('div', { 'aria-live': 'polite' });
  main.append(h('h1', {}, 'API keys'), shown, createForm(list, shown), h('section', {}, h('h2', {}, 'Keys'), list));
  await refresh(list, shown);
}

function createForm(list, shown) {
  const summary = errorNote();
  const form = h('form', { 'aria-labelledby': 'create-heading' },
    h('h2', { id: 'create-heading' }, 'Create a key'),
    h('label', { for: 'key-name' }, 'Name'),
    h('input', { id: 'key-name', name: 'name', type: 'text', required: true, maxlength: 100 }),
    h('fieldset', {}, h('legend', {}, 'Scopes'),
      scopes.map((scope) => h('label', {}, h('input', { type: 'checkbox', name: 'scopes', value: scope }), scope))),
    h('label', { for: 'key-expiry' }, 'Expires after (days; empty: the platform default)'),
    h('input', { id: 'key-expiry', name: 'expires', type: 'number', min: 1, max: 3650 }),
    h('p', {}, h('button', { type: 'submit' }, 'Create key')),
    summary);
  onSubmit(form, summary, async () => {
    const body = {
      name: form.elements.name.value,
      scopes: [...form.querySelectorAll('input[name="scopes"]:checked')].map((box) => box.value),
    };
    const days = Number(form.elements.expires.value);
    if (days > 0) body.expires_in_seconds = days * 86400;
    const created = await call('POST', '/v1/keys', body);
    showToken(shown, `Key “${created.name}” created`, created.token);
    form.reset();
    await refresh(list, shown);
  });
  return h('section', {}, form);
}

/** The token of a new or rotated key, shown this once. */
function showToken(shown, heading, token) {
  shownOnce(shown, heading, 'Copy the token now: it is not shown again.',
    h('code', { class: 'secret', id: 'new-token' }, token));
}

function refresh(list, shown) {
  return fill(list, async () => {
    return pagedTable('/v1/keys?limit=50', ['Name', 'Scopes', 'Created', 'Last used', 'State', ''],
      (key) => row(key, list, shown), 'No keys yet.');
  });
}

function row(key, list, shown) {
  const revoked = Boolean(key.revoked_at);
  const actions = revoked ? [] : [
    h('button', { type: 'button', class: 'secondary', 'aria-label': `Rotate ${key.name}`, onclick: () => report(shown, async () => {
      const rotated = await call('POST', `/v1/keys/${key.id}/rotate`, {});
      showToken(shown, `Key “${key.name}” rotated`, rotated.token);
      await refresh(list, shown);
    }) }, 'Rotate'),
    ' ',
    h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${key.name}`, onclick: () => report(shown, async () => {
      if (!confirm(`Revoke “${key.name}”? Calls with it stop at once.`)) return;
      await call('DELETE', `/v1/keys/${key.id}`);
      await refresh(list, shown);
    }) }, 'Revoke'),
  ];
  return h('tr', { 'data-key': key.id },
    h('td', {}, key.name),
    h('td', {}, key.scopes.join(', ')),
    h('td', {}, when(key.created_at)),
    h('td', {}, when(key.last_used_at) || 'never'),
    h('td', {}, revoked ? `revoked ${when(key.revoked_at)}` : key.expires_at ? `expires ${when(key.expires_at)}` : 'active'),
    h('td', {}, actions));
}
