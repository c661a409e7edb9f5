// The audit log: who did what to which object, newest first, a page at a time.
import { headed, h, when } from '../dom.js';
import { pagedTable } from '../lists.js';

export const title = 'Audit log';

export async function render(main) {
  await headed(main, 'Audit log', () => pagedTable('/v1/audit-log?limit=50', ['When', 'Who', 'Action', 'Object', 'From'],
    (event) => h('tr', {},
      h('td', {}, when(event.occurred_at)),
      h('td', {}, `${event.actor_type} ${event.actor_id}`),
      h('td', { class: 'action' }, event.action),
      h('td', {}, `${event.target_type} ${event.target_id}`),
      h('td', {}, event.client_address || '')),
    'Nothing recorded yet.'));
}
