// The audit log: who did what to which object, newest first, a page at a time.
import { call } from '../api.js';
import { errorNote, h, table, when } from '../dom.js';

export const title = 'Audit log';

export async function render(main) {
  const list = table(['When', 'Who', 'Action', 'Object', 'From'], []);
  const body = list.querySelector('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  const summary = errorNote();
  let cursor = null;
  async function load() {
    try {
      const page = await call('GET', `/v1/audit-log?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      body.append(...page.items.map((event) => h('tr', {},
        h('td', {}, when(event.occurred_at)),
        h('td', {}, `${event.actor_type} ${event.actor_id}`),
        h('td', { class: 'action' }, event.action),
        h('td', {}, `${event.target_type} ${event.target_id}`),
        h('td', {}, event.client_address || ''))));
      cursor = page.next_cursor || null;
      more.hidden = cursor === null;
    } catch (problem) {
      summary.textContent = problem.message;
    }
  }
  more.addEventListener('click', load);
  main.append(h('h1', {}, 'Audit log'), summary, h('section', {},
    list,
    h('p', {}, more)));
  await load();
}
