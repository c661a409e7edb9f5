// Token usage for the operator: across every tenant (`#/usage`), or one tenant's
// (`#/usage?tenant=<id>&slug=<slug>`, opened from the tenants page).
import { call } from '../api.js';
import { h, headed } from '../dom.js';
import { usageSection } from '../usage.js';

export const title = 'Usage';

export async function render(main) {
  const values = new URLSearchParams(location.hash.split('?')[1] || '');
  const tenant = values.get('tenant');
  const name = values.get('slug') || tenant;
  await headed(main, 'Usage', async () => {
    const usage = await call('GET', `/v1/admin/usage${tenant ? `?tenant_id=${encodeURIComponent(tenant)}` : ''}`);
    return [
      tenant ? h('p', {}, h('a', { href: '#/usage' }, 'All tenants')) : null,
      usageSection(usage.items, tenant ? `Usage of ${name}, last 30 days` : 'Usage of all tenants, last 30 days'),
    ].filter(Boolean);
  });
}
