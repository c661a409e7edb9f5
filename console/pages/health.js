// The platform's health as this replica sees it (operator only): each component's state and latency.
import { call } from '../api.js';
import { h, headed, table, when } from '../dom.js';

export const title = 'Health';

export async function render(main) {
  await headed(main, 'Health', async () => {
    const health = await call('GET', '/v1/admin/health');
    const components = ['postgres', 'redis', 'invalidation_listener', 'queues', 'relay', 'executor']
      .filter((name) => health[name]);
    return h('section', {},
      h('p', { id: 'health-status' }, `Overall: ${health.status} (checked ${when(health.checked_at)}).`),
      table(['Component', 'State', 'Details'], components.map((name) => {
        const { status, ...details } = health[name];
        return h('tr', { 'data-component': name },
          h('td', {}, name.replaceAll('_', ' ')),
          h('td', { class: 'status' }, status),
          h('td', {}, Object.entries(details).map(([key, value]) => `${key.replaceAll('_', ' ')}: ${value}`).join('; ')));
      })));
  });
}
