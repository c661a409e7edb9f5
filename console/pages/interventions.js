// Interventions about overdue commitments: how often they were accepted (over the last 12 weeks, and
// week by week), the interventions themselves, filtered by status, each open or escalated one answered
// here as accepted or dismissed, and the settings (on or off, tone, delay before the manager hears,
// the Slack webhook, which is never shown back).
import { call } from '../api.js';
import { pagedTable } from '../lists.js';
import { shiftDay } from '../chart.js';
import { choice, errorNote, fill, h, onSubmit, report, table, when } from '../dom.js';

export const title = 'Interventions';

const statuses = ['open', 'escalated', 'accepted', 'dismissed'];

export async function render(main) {
  const shown = h('div', { 'aria-live': 'polite' });
  const totals = h('div');
  const list = h('div');
  const status = choice({ id: 'intervention-status' }, statuses, { any: true });
  const refresh = () => Promise.all([weekly(totals), interventions(list, status.value, shown, refresh)]);
  status.addEventListener('change', refresh);
  const settings = h('div');
  main.append(h('h1', {}, 'Interventions'), shown,
    h('section', { 'aria-labelledby': 'acceptance-heading' }, h('h2', { id: 'acceptance-heading' }, 'Acceptance, last 12 weeks'), totals),
    h('section', {}, h('h2', {}, 'Interventions'),
      h('p', {}, h('label', { for: status.id }, 'Status'), status), list),
    settings);
  await Promise.all([refresh(), fill(settings, async () => settingsForm(await call('GET', '/v1/interventions/settings')))]);
}

const tones = ['friendly', 'direct', 'formal'];

/** The tenant's settings; the Slack webhook is set or removed, never shown. */
function settingsForm(current) {
  const summary = errorNote();
  const status = h('p', { role: 'status', id: 'settings-status' });
  const slack = h('p', { class: 'muted', id: 'slack-state' });
  const showSlack = (configured) => {
    slack.textContent = configured ? 'A Slack webhook is set.' : 'No Slack webhook is set.';
  };
  showSlack(current.slack_webhook_configured);
  const form = h('form', { 'aria-labelledby': 'settings-heading' },
    h('h2', { id: 'settings-heading' }, 'Settings'),
    h('label', {}, h('input', { type: 'checkbox', name: 'enabled', checked: current.enabled }), ' Make interventions about overdue commitments'),
    h('label', { for: 'settings-tone' }, 'Tone'),
    choice({ id: 'settings-tone', name: 'tone' }, tones, { current: current.tone }),
    h('label', { for: 'settings-delay' }, 'Hours before an unanswered one goes to the manager'),
    h('input', { id: 'settings-delay', name: 'escalation_delay_seconds', type: 'number', min: 1 / 60, max: 720, step: 'any', value: current.escalation_delay_seconds / 3600, required: true }),
    h('label', { for: 'settings-slack' }, 'Slack webhook URL (leave empty to keep the one set)'),
    h('input', { id: 'settings-slack', name: 'slack_webhook_url', type: 'password', autocomplete: 'off' }),
    slack,
    h('label', {}, h('input', { type: 'checkbox', name: 'remove_slack_webhook' }), ' Remove the Slack webhook'),
    h('p', {}, h('button', { type: 'submit' }, 'Save settings')),
    summary, status);
  onSubmit(form, summary, async () => {
    const update = {
      enabled: form.elements.enabled.checked,
      tone: form.elements.tone.value,
      escalation_delay_seconds: Math.round(Number(form.elements.escalation_delay_seconds.value) * 3600),
    };
    const url = form.elements.slack_webhook_url.value.trim();
    if (url) update.slack_webhook_url = url;
    if (form.elements.remove_slack_webhook.checked) update.remove_slack_webhook = true;
    const saved = await call('PUT', '/v1/interventions/settings', update);
    form.elements.slack_webhook_url.value = '';
    form.elements.remove_slack_webhook.checked = false;
    showSlack(saved.slack_webhook_configured);
    status.textContent = `Saved: ${saved.enabled ? 'on' : 'off'}, ${saved.tone}, the manager after ${saved.escalation_delay_seconds / 3600} hours.`;
  }, status);
  return h('section', {}, form);
}

function percent(rate) {
  return typeof rate === 'number' ? `${Math.round(rate * 100)}%` : 'none answered yet';
}

function weekly(area) {
  return fill(area, async () => {
    const today = new Date().toISOString().slice(0, 10);
    const weeks = await call('GET', `/v1/interventions/weekly?from=${shiftDay(today, -83)}&to=${today}`);
    return [
      h('p', { id: 'acceptance-rate', class: 'figure' }, `Acceptance rate: ${percent(weeks.acceptance_rate)}`),
      weeks.items.length === 0 ? h('p', { class: 'muted' }, 'No interventions in these weeks.') : table(
        ['Week of', 'Made', 'Escalated', 'Accepted', 'Dismissed', 'Acceptance'],
        weeks.items.map((week) => h('tr', { 'data-week': week.week },
          h('td', {}, week.week),
          h('td', { class: 'number' }, String(week.created)),
          h('td', { class: 'number' }, String(week.escalated)),
          h('td', { class: 'number' }, String(week.accepted)),
          h('td', { class: 'number' }, String(week.dismissed)),
          h('td', { class: 'number' }, percent(week.acceptance_rate))))),
    ];
  });
}

function interventions(list, status, shown, refresh) {
  return fill(list, async () => {
    return pagedTable(`/v1/interventions?limit=50${status ? `&status=${status}` : ''}`,
      ['Made', 'Person', 'Commitment', 'Due', 'Status', 'Message', ''],
      (item) => h('tr', { 'data-intervention': item.id },
        h('td', {}, when(item.created_at)),
        h('td', {}, item.person || '', item.owner_handle ? ` (${item.owner_handle})` : ''),
        h('td', {}, item.commitment, h('br'), h('span', { class: 'muted' }, `${item.repository} @ ${item.sha.slice(0, 10)}`)),
        h('td', {}, item.due_date),
        h('td', { class: 'status' }, item.status, item.escalated_at ? ` (escalated ${when(item.escalated_at)})` : ''),
        h('td', {}, item.message || ''),
        h('td', {}, ['open', 'escalated'].includes(item.status)
          ? ['accepted', 'dismissed'].map((outcome) => h('button', {
            type: 'button', class: outcome === 'accepted' ? 'secondary' : 'danger',
            'aria-label': `Mark “${item.commitment}” ${outcome}`,
            onclick: () => report(shown, async () => {
              await call('POST', `/v1/interventions/${item.id}/outcome`, { outcome });
              await refresh();
              return `Marked ${outcome}.`;
            }),
          }, outcome === 'accepted' ? 'Accept' : 'Dismiss'))
          : '')), 'No interventions.');
  });
}
