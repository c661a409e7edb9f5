// The tenant at a glance: who it is; its token budget as a gauge (used, held for calls in flight, the
// soft limit's mark); tokens and cost per day over the last 30 days by provider and model; and the rate
// limit's headroom.
import { call, rateLimit } from '../api.js';
import { daysBetween, legend, shiftDay, stackedBars } from '../chart.js';
import { count, h, headed, svg, table, when } from '../dom.js';

export const title = 'Overview';

export async function render(main) {
  await headed(main, 'Overview', async () => {
    const [tenant, budget, usage] = await Promise.all([
      call('GET', '/v1/tenant'), call('GET', '/v1/budget'), call('GET', '/v1/usage')]);
    const headroom = rateLimit();
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
        h('p', { class: 'muted', id: 'headroom' }, headroom
          ? `Rate limit: ${count(headroom.remaining)} of ${count(headroom.limit)} requests left in the current minute.`
          : '')),
      usageSection(usage.items),
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

/** Micro-USD as dollars: cents once there are any, else enough digits to show the amount. */
function dollars(micros) {
  const value = micros / 1e6;
  return `$${value >= 0.01 || value === 0 ? value.toFixed(2) : value.toPrecision(2)}`;
}

/** Tokens and cost per day, a series per provider and model (the biggest first), and their totals. */
function usageSection(items) {
  const last = items.reduce((latest, item) => (item.day > latest ? item.day : latest), new Date().toISOString().slice(0, 10));
  const days = daysBetween(shiftDay(last, -29), last);
  const byName = new Map();
  for (const item of items) {
    const name = `${item.provider}/${item.model}`;
    const part = byName.get(name) ?? { name, tokens: new Map(), cost: new Map(), calls: 0, total: 0, micros: 0, cached: 0 };
    part.tokens.set(item.day, (part.tokens.get(item.day) || 0) + item.total_tokens);
    part.cost.set(item.day, (part.cost.get(item.day) || 0) + item.cost_micros);
    part.calls += item.calls;
    part.cached += item.cached_calls;
    part.total += item.total_tokens;
    part.micros += item.cost_micros;
    byName.set(name, part);
  }
  const parts = [...byName.values()].sort((a, b) => b.total - a.total);
  const heading = h('h2', { id: 'usage-heading' }, 'Usage, last 30 days');
  if (parts.length === 0) {
    return h('section', { 'aria-labelledby': 'usage-heading' }, heading, h('p', { class: 'muted' }, 'No calls yet.'));
  }
  return h('section', { 'aria-labelledby': 'usage-heading' }, heading,
    h('h3', {}, 'Tokens per day'),
    stackedBars({ id: 'usage-tokens', label: 'Tokens per day', days, format: count,
      series: parts.map((part) => ({ name: part.name, values: part.tokens })) }),
    h('h3', {}, 'Cost per day'),
    stackedBars({ id: 'usage-cost', label: 'Cost per day', days, format: dollars,
      series: parts.map((part) => ({ name: part.name, values: part.cost })) }),
    legend(parts),
    table(['Provider and model', 'Calls', 'Cached', 'Tokens', 'Cost'], parts.map((part) => h('tr', { 'data-usage': part.name },
      h('th', { scope: 'row' }, part.name),
      h('td', { class: 'number' }, count(part.calls)),
      h('td', { class: 'number' }, count(part.cached)),
      h('td', { class: 'number' }, count(part.total)),
      h('td', { class: 'number' }, dollars(part.micros))))));
}
