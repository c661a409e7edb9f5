// The tenant at a glance: who it is; its token budget as a gauge (used, held for calls in flight, the
// soft limit's mark); tokens and cost per day over the last 30 days by provider and model; and the rate
// limit's headroom.
import { call, rateLimit } from '../api.js';
import { usageSection } from '../usage.js';
import { count, h, headed, headroomNote, svg, when } from '../dom.js';

export const title = 'Overview';

export async function render(main) {
  await headed(main, 'Overview', async () => {
    const [tenant, budget, usage] = await Promise.all([
      call('GET', '/v1/tenant'), call('GET', '/v1/budget'), call('GET', '/v1/usage')]);
    return [
      h('section', { 'aria-labelledby': 'tenant-heading' },
        h('h2', { id: 'tenant-heading' }, tenant.name),
        h('dl', {},
          h('dt', {}, 'Slug'), h('dd', {}, tenant.slug),
          h('dt', {}, 'Plan'), h('dd', {}, tenant.plan),
          h('dt', {}, 'Status'), h('dd', {}, tenant.status),
          h('dt', {}, 'Time zone'), h('dd', {}, tenant.timezone))),
      h('section', { 'aria-labelledby': 'budget-heading' },
        h('h2', { id: 'budget-heading' }, `Token budget (${budget.period})`),
        gauge(budget),
        h('p', { class: 'muted' },
          `${count(budget.current.used)} used and ${count(budget.current.reserved)} held of ${count(budget.token_limit)}; `,
          `${count(budget.current.remaining)} left until ${when(budget.current.resets_at)}.`,
          budget.current.soft_limit_reached ? ' The soft limit is reached.' : ''),
        headroomNote(rateLimit())),
      usageSection(usage.items, 'Usage, last 30 days'),
    ];
  });
}

/** A bar of the period's use: used, then held, against the limit, with the soft limit marked. */
function gauge(budget) {
  const width = 480;
  const limit = Math.max(1, budget.token_limit);
  const used = Math.min(1, budget.current.used / limit) * width;
  const held = Math.min(width - used, (budget.current.reserved / limit) * width);
  const soft = (budget.soft_limit_percent / 100) * width;
  const percent = Math.round((100 * (budget.current.used + budget.current.reserved)) / limit);
  return svg('svg', {
    class: 'gauge', viewBox: `0 0 ${width} 44`, width: '100%', role: 'img',
    'aria-label': `${percent}% of the budget used or held; soft limit at ${budget.soft_limit_percent}%`,
  },
  svg('rect', { x: 0, y: 4, width, height: 20, rx: 3, fill: '#e6e9ef' }),
  svg('rect', { x: 0, y: 4, width: used, height: 20, rx: 3, fill: budget.current.soft_limit_reached ? '#b25e00' : '#2456c7' }),
  svg('rect', { x: used, y: 4, width: held, height: 20, fill: '#9bb6f0' }),
  svg('line', { x1: soft, x2: soft, y1: 0, y2: 28, stroke: '#1d2330', 'stroke-dasharray': '3 2' }),
  svg('text', { x: Math.min(soft, width - 90), y: 40 }, `soft limit ${budget.soft_limit_percent}%`));
}
