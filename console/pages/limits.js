// The token budget and the request rate limit: both editable within the operator's caps, and the
// rate limit's headroom as the last answer stated it.
import { call, rateLimit } from '../api.js';
import { choice, count, errorNote, h, headed, headroomNote, onSubmit, when } from '../dom.js';

export const title = 'Budget and limits';

export async function render(main) {
  await headed(main, 'Budget and limits', async () => {
    const [budget, limits] = await Promise.all([call('GET', '/v1/budget'), call('GET', '/v1/limits')]);
    return [budgetForm(budget), limitsForm(limits)];
  });
}

function budgetForm(budget) {
  const summary = errorNote();
  const saved = h('p', { class: 'muted', role: 'status' });
  const form = h('form', { 'aria-labelledby': 'budget-form-heading' },
    h('h2', { id: 'budget-form-heading' }, 'Token budget'),
    h('p', { class: 'muted' }, `${count(budget.current.used)} used this ${budget.period}; the operator allows up to ${count(budget.max_token_limit)}.`),
    h('label', { for: 'budget-period' }, 'Period'),
    choice({ id: 'budget-period', name: 'period' }, ['day', 'week', 'month'], { current: budget.period }),
    h('label', { for: 'budget-limit' }, 'Token limit'),
    h('input', { id: 'budget-limit', name: 'token_limit', type: 'number', min: 0, max: budget.max_token_limit, value: budget.token_limit, required: true }),
    h('label', { for: 'budget-soft' }, 'Soft limit (% of the limit)'),
    h('input', { id: 'budget-soft', name: 'soft_limit_percent', type: 'number', min: 1, max: 100, value: budget.soft_limit_percent }),
    h('label', { for: 'budget-exhausted' }, 'When the budget is used up'),
    choice({ id: 'budget-exhausted', name: 'on_exhausted' }, ['block', 'degrade'], { current: budget.on_exhausted }),
    h('p', {}, h('button', { type: 'submit' }, 'Save budget')),
    summary, saved);
  onSubmit(form, summary, async () => {
    const updated = await call('PUT', '/v1/budget', {
      period: form.elements.period.value,
      token_limit: Number(form.elements.token_limit.value),
      soft_limit_percent: Number(form.elements.soft_limit_percent.value),
      on_exhausted: form.elements.on_exhausted.value,
    });
    saved.textContent = `Saved: ${count(updated.token_limit)} tokens a ${updated.period}, soft limit at ${updated.soft_limit_percent}% (${when(updated.updated_at)}).`;
  }, saved);
  return h('section', {}, form);
}

function limitsForm(limits) {
  const summary = errorNote();
  const saved = h('p', { class: 'muted', role: 'status' });
  const form = h('form', { 'aria-labelledby': 'limits-form-heading' },
    h('h2', { id: 'limits-form-heading' }, 'Request rate'),
    headroomNote(rateLimit()),
    h('label', { for: 'limits-rate' }, `Requests per minute (at most ${count(limits.max_requests_per_minute)})`),
    h('input', { id: 'limits-rate', name: 'requests_per_minute', type: 'number', min: 1, max: limits.max_requests_per_minute, value: limits.requests_per_minute, required: true }),
    h('label', { for: 'limits-burst' }, `Burst (at most ${count(limits.max_burst)})`),
    h('input', { id: 'limits-burst', name: 'burst', type: 'number', min: 1, max: limits.max_burst, value: limits.burst, required: true }),
    h('p', {}, h('button', { type: 'submit' }, 'Save rate')),
    summary, saved);
  onSubmit(form, summary, async () => {
    const updated = await call('PUT', '/v1/limits', {
      requests_per_minute: Number(form.elements.requests_per_minute.value),
      burst: Number(form.elements.burst.value),
    });
    saved.textContent = `Saved: ${count(updated.requests_per_minute)} a minute, bursts of ${count(updated.burst)}.`;
  }, saved);
  return h('section', {}, form);
}
