// Lists the API answers a page at a time (`items`, and `next_cursor` while there are more).
import { call } from './api.js';
import { errorNote, h, table } from './dom.js';

/**
 * The first page of the list at `path` (a list operation's address, with its filters) as a table of
 * `headings`, a row per item drawn by `row`, and "Load more" while the API has more; `empty` when there
 * is nothing. Answers the nodes to show (for `fill`), or throws the problem the first page met.
 */
export async function pagedTable(path, headings, row, empty) {
  const drawn = table(headings, []);
  const body = drawn.querySelector('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  const problem = errorNote();
  let cursor = null;
  async function load() {
    const separator = path.includes('?') ? '&' : '?';
    const page = await call('GET', cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path);
    body.append(...page.items.map(row));
    cursor = page.next_cursor || null;
    more.hidden = cursor === null;
  }
  await load();
  if (body.children.length === 0) return h('p', { class: 'muted' }, empty);
  more.addEventListener('click', async () => {
    problem.textContent = '';
    more.disabled = true;
    try {
      await load();
    } catch (failure) {
      problem.textContent = failure.message;
    } finally {
      more.disabled = false;
    }
  });
  return [drawn, h('p', {}, more), problem];
}
