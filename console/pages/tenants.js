// Every tenant (operator only): suspend or reactivate one, change its plan, and set its caps (requests
// per minute and burst, and the most tokens its budget may allow).
import { call } from '../api.js';
import { pagedTable } from '../lists.js';
import { choice, errorNote, fill, h, onSubmit, report, when } from '../dom.js';

export const title = 'Tenants';

export async function render(main) {
  const shown = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const status = choice({ id: 'tenant-status' }, ['active', 'suspended'], { any: true });
  const caps = h('div');
  status.addEventListener('change', () => listTenants(list, status.value, shown, caps));
  main.append(h('h1', {}, 'Tenants'), shown,
    h('section', {}, h('p', {}, h('label', { for: 'tenant-status' }, 'Status'), status), list), caps);
  await listTenants(list, status.value, shown, caps);
}

function listTenants(list, status, shown, caps) {
  return fill(list, async () => {
    const path = `/v1/admin/tenants?limit=100${status ? `&status=${status}` : ''}`;
    return pagedTable(path, ['Name', 'Slug', 'Plan', 'Status', 'Created', ''], (tenant) => {
      const plan = choice({ 'aria-label': `Plan of ${tenant.slug}` }, ['free', 'team', 'enterprise'], { current: tenant.plan });
      plan.addEventListener('change', async () => {
        await change(tenant, { plan: plan.value }, shown);
        await listTenants(list, status, shown, caps);
      });
      const suspended = tenant.status === 'suspended';
      return h('tr', { 'data-tenant': tenant.id },
        h('td', {}, tenant.name),
        h('td', {}, tenant.slug),
        h('td', {}, plan),
        h('td', { class: 'status' }, tenant.status),
        h('td', {}, when(tenant.created_at)),
        h('td', {},
          h('button', { type: 'button', class: suspended ? 'secondary' : 'danger', 'aria-label': `${suspended ? 'Reactivate' : 'Suspend'} ${tenant.slug}`, onclick: async () => {
            await change(tenant, { status: suspended ? 'active' : 'suspended' }, shown);
            await listTenants(list, status, shown, caps);
          } }, suspended ? 'Reactivate' : 'Suspend'), ' ',
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Caps of ${tenant.slug}`, onclick: () => {
            caps.replaceChildren(capsForm(tenant, shown));
            caps.querySelector('input')?.focus();
          } }, 'Caps'), ' ',
          h('a', { href: `#/usage?${new URLSearchParams({ tenant: tenant.id, slug: tenant.slug })}`, 'aria-label': `Usage of ${tenant.slug}` }, 'Usage')));
    }, 'No tenants.');
  });
}

/** Changes a tenant's status or plan, saying what it is now. */
function change(tenant, update, shown) {
  return report(shown, async () => {
    const changed = await call('PATCH', `/v1/admin/tenants/${tenant.id}`, update);
    return `${changed.slug}: ${changed.status}, plan ${changed.plan}.`;
  });
}

function capsForm(tenant, shown) {
  const summary = errorNote();
  const form = h('form', { 'aria-labelledby': 'caps-heading' },
    h('h2', { id: 'caps-heading' }, `Caps of ${tenant.slug}`),
    h('label', { for: 'cap-rate' }, 'Most requests per minute'),
    h('input', { id: 'cap-rate', name: 'max_requests_per_minute', type: 'number', min: 1, max: 1000000, required: true }),
    h('label', { for: 'cap-burst' }, 'Largest burst'),
    h('input', { id: 'cap-burst', name: 'max_burst', type: 'number', min: 1, max: 1000000, required: true }),
    h('label', { for: 'cap-tokens' }, 'Most tokens a budget may allow'),
    h('input', { id: 'cap-tokens', name: 'max_token_limit', type: 'number', min: 0, max: 1000000000000, required: true }),
    h('p', {}, h('button', { type: 'submit' }, 'Save caps')),
    summary);
  onSubmit(form, summary, async () => {
    const limits = await call('PUT', `/v1/admin/tenants/${tenant.id}/limits`, {
      max_requests_per_minute: Number(form.elements.max_requests_per_minute.value),
      max_burst: Number(form.elements.max_burst.value),
    });
    const budget = await call('PUT', `/v1/admin/tenants/${tenant.id}/budget`, {
      max_token_limit: Number(form.elements.max_token_limit.value),
    });
    shown.replaceChildren(h('p', { role: 'status' },
      `${tenant.slug}: at most ${limits.max_requests_per_minute} requests a minute, bursts of ${limits.max_burst}, budgets of ${budget.max_token_limit} tokens.`));
  });
  return h('section', {}, form);
}
