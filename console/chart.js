// Charts drawn as inline SVG: a bar per day, stacked by series, each part titled with its value (the
// browser shows it on hover), and the whole described in its `aria-label`.
import { h, svg } from './dom.js';

/** Colours for the series, in order; series past the last share the grey. */
const palette = ['#2456c7', '#0f8a5f', '#b25e00', '#8a3fb3', '#b3261e', '#00778a', '#6b7a12', '#a3366f'];
const other = '#9aa3b2';

/** The colour of the `index`th series. */
export function colour(index) {
  return palette[index] ?? other;
}

/** The days from `first` to `last` (`YYYY-MM-DD`, both included). */
export function daysBetween(first, last) {
  const days = [];
  for (let day = Date.parse(`${first}T00:00:00Z`); day <= Date.parse(`${last}T00:00:00Z`); day += 86_400_000) {
    days.push(new Date(day).toISOString().slice(0, 10));
  }
  return days;
}

/** `day` moved by `offset` days. */
export function shiftDay(day, offset) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A stacked bar chart. `days` are the bars, left to right; `series` the stacked parts, bottom first, each
 * `{name, values}` with `values` a Map from day to number; `format` writes a value for people.
 */
export function stackedBars({ id, label, days, series, format }) {
  const width = 720, height = 180, left = 64, bottom = 22, top = 8;
  const totals = days.map((day) => series.reduce((sum, part) => sum + (part.values.get(day) || 0), 0));
  const highest = Math.max(...totals, 0);
  const scale = highest > 0 ? (height - top - bottom) / highest : 0;
  const slot = (width - left) / Math.max(1, days.length);
  const bars = days.flatMap((day, index) => {
    let base = height - bottom;
    return series.flatMap((part, which) => {
      const value = part.values.get(day) || 0;
      if (value <= 0) return [];
      const size = Math.max(1, value * scale);
      base -= size;
      return [svg('rect', {
        x: left + index * slot + 1, y: base, width: Math.max(1, slot - 2), height: size, fill: colour(which),
        'data-day': day,
      }, svg('title', {}, `${day} · ${part.name}: ${format(value)}`))];
    });
  });
  const ticks = highest > 0 ? [0, highest / 2, highest] : [0];
  const total = totals.reduce((sum, value) => sum + value, 0);
  return svg('svg', {
    id, class: 'chart', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img',
    'aria-label': `${label}: ${format(total)} over ${days.length} days, ${format(highest)} on the busiest`,
  },
  ticks.map((value) => {
    const y = height - bottom - value * scale;
    return [
      svg('line', { x1: left, x2: width, y1: y, y2: y, class: 'grid' }),
      svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, format(value)),
    ];
  }).flat(),
  bars,
  // The first, middle and last days named, the outer two kept inside the chart.
  [[0, 'start'], [Math.floor((days.length - 1) / 2), 'middle'], [days.length - 1, 'end']]
    .filter(([index], at, all) => all.findIndex(([other]) => other === index) === at)
    .map(([index, anchor]) => svg('text', {
      x: anchor === 'start' ? left + index * slot : anchor === 'end' ? left + (index + 1) * slot : left + (index + 0.5) * slot,
      y: height - 6, 'text-anchor': anchor,
    }, days[index])));
}

/** The key to the series' colours. */
export function legend(series) {
  return h('ul', { class: 'legend' }, series.map((part, index) => h('li', {},
    svg('svg', { viewBox: '0 0 10 10', width: 10, height: 10, 'aria-hidden': 'true' },
      svg('rect', { width: 10, height: 10, fill: colour(index) })),
    part.name)));
}
