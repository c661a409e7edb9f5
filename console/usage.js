// Token usage as the API totals it (per day, provider and model): charted per day, tokens and cost, and
// totalled per provider and model. The tenant's overview and the operator's usage page both show it.
import { daysBetween, legend, shiftDay, stackedBars } from './chart.js';
import { count, h, table } from './dom.js';

/** Micro-USD as dollars: cents once there are any, else enough digits to show the amount. */
function dollars(micros) {
  const value = micros / 1e6;
  return `$${value >= 0.01 || value === 0 ? value.toFixed(2) : value.toPrecision(2)}`;
}

/** Tokens and cost per day over the 30 days to the latest one, a series per provider and model (the biggest
 *  first), and their totals; under `heading`. */
export function usageSection(items, heading) {
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
  const title = h('h2', { id: 'usage-heading' }, heading);
  if (parts.length === 0) {
    return h('section', { 'aria-labelledby': 'usage-heading' }, title, h('p', { class: 'muted' }, 'No calls yet.'));
  }
  return h('section', { 'aria-labelledby': 'usage-heading' }, title,
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
