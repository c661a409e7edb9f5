// GitHub webhooks: the endpoints (create with the pipelines to run, the secret shown once, rotate,
// switch off, delete), the deliveries they received (filter by status, replay) and the jobs made from
// them (filter by status, retry a failed or dead one).
import { call, pipelines } from '../api.js';
import { pagedTable } from '../lists.js';
import { choice, errorNote, fill, h, onSubmit, report, shownOnce, when } from '../dom.js';

export const title = 'Webhooks';

const deliveryStatuses = ['accepted', 'enqueued', 'processed', 'ignored', 'failed'];
const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'dead'];

export async function render(main) {
  const shown = h('div', { 'aria-live': 'polite' });
  const endpoints = h('div');
  const deliveries = h('div');
  const jobs = h('div');
  const deliveryStatus = choice({ id: 'delivery-status' }, deliveryStatuses, { any: true });
  const jobStatus = choice({ id: 'job-status' }, jobStatuses, { any: true });
  // Every list is read again after a change, or when a filter changes.
  const refresh = () => Promise.all([
    listEndpoints(endpoints, shown), listDeliveries(deliveries, deliveryStatus.value, shown, refresh),
    listJobs(jobs, jobStatus.value, shown, refresh)]);
  deliveryStatus.addEventListener('change', refresh);
  jobStatus.addEventListener('change', refresh);
  main.append(h('h1', {}, 'Webhooks'), shown, createForm(shown, refresh),
    h('section', {}, h('h2', {}, 'Endpoints'), endpoints),
    h('section', {}, h('h2', {}, 'Deliveries'), h('p', {}, h('label', { for: deliveryStatus.id }, 'Delivery status'), deliveryStatus), deliveries),
    h('section', {}, h('h2', {}, 'Jobs'), h('p', {}, h('label', { for: jobStatus.id }, 'Job status'), jobStatus), jobs));
  await refresh();
}

function createForm(shown, refresh) {
  const summary = errorNote();
  const form = h('form', { 'aria-labelledby': 'endpoint-heading' },
    h('h2', { id: 'endpoint-heading' }, 'Add a GitHub endpoint'),
    h('fieldset', {}, h('legend', {}, 'Pipelines to run on each push'),
      pipelines.map((name) => h('label', {}, h('input', { type: 'checkbox', name: 'pipelines', value: name, checked: true }), name))),
    h('label', { for: 'endpoint-repositories' }, 'Repositories (owner/name, comma-separated; empty for any)'),
    h('input', { id: 'endpoint-repositories', name: 'repositories', type: 'text' }),
    h('p', {}, h('button', { type: 'submit' }, 'Add endpoint')),
    summary);
  onSubmit(form, summary, async () => {
    const repositories = form.elements.repositories.value.split(',').map((text) => text.trim()).filter(Boolean);
    const body = {
      provider: 'github',
      pipelines: [...form.querySelectorAll('input[name="pipelines"]:checked')].map((box) => box.value),
    };
    if (repositories.length) body.repositories = repositories;
    const created = await call('POST', '/v1/webhooks', body);
    showSecret(shown, 'Endpoint added', created);
    await refresh();
  });
  return h('section', {}, form);
}

/** The payload URL and the secret for GitHub's settings, the secret shown this once. */
function showSecret(shown, heading, endpoint) {
  shownOnce(shown, heading,
    'In the repository’s Settings → Webhooks, use this payload URL and secret, content type application/json. The secret is not shown again.',
    h('dl', {},
      h('dt', {}, 'Payload URL'), h('dd', {}, h('code', { id: 'endpoint-url' }, new URL(endpoint.url, location.origin).href)),
      h('dt', {}, 'Secret'), h('dd', {}, h('code', { class: 'secret', id: 'endpoint-secret' }, endpoint.secret))));
}

function listEndpoints(list, shown) {
  return fill(list, async () => {
    return pagedTable('/v1/webhooks?limit=50', ['URL', 'Pipelines', 'Repositories', 'State', ''],
      (endpoint) => h('tr', { 'data-endpoint': endpoint.id },
        h('td', {}, h('code', {}, endpoint.url)),
        h('td', {}, endpoint.pipelines.join(', ')),
        h('td', {}, endpoint.repositories?.length ? endpoint.repositories.join(', ') : 'any'),
        h('td', {}, endpoint.active ? 'receiving' : 'off'),
        h('td', {},
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Rotate the secret of ${endpoint.url}`, onclick: () => report(shown, async () => {
            showSecret(shown, 'Secret rotated', { ...endpoint, ...(await call('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, {})) });
          }) }, 'Rotate secret'), ' ',
          h('button', { type: 'button', class: 'secondary', onclick: () => report(shown, async () => {
            await call('PATCH', `/v1/webhooks/${endpoint.id}`, { active: !endpoint.active });
            await listEndpoints(list, shown);
          }) }, endpoint.active ? 'Switch off' : 'Switch on'), ' ',
          h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${endpoint.url}`, onclick: () => report(shown, async () => {
            if (!confirm('Delete this endpoint? GitHub’s deliveries to it will be refused.')) return;
            await call('DELETE', `/v1/webhooks/${endpoint.id}`);
            await listEndpoints(list, shown);
          }) }, 'Delete'))), 'No endpoints yet.');
  });
}

function listDeliveries(list, status, shown, refresh) {
  return fill(list, async () => {
    return pagedTable(`/v1/deliveries?limit=50${status ? `&status=${status}` : ''}`,
      ['Received', 'Event', 'Repository', 'Status', 'Jobs', ''],
      (delivery) => h('tr', { 'data-delivery': delivery.id },
        h('td', {}, when(delivery.received_at)),
        h('td', {}, delivery.event),
        h('td', {}, delivery.repository || ''),
        h('td', { class: 'status' }, delivery.status, delivery.reason ? ` (${delivery.reason})` : ''),
        h('td', {}, String(delivery.job_count)),
        h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Replay the delivery of ${when(delivery.received_at)}`, onclick: () => report(shown, async () => {
          const receipt = await call('POST', `/v1/deliveries/${delivery.id}/replay`);
          await refresh();
          return `Replayed: ${receipt.job_ids.length} new job(s).`;
        }) }, 'Replay'))), 'No deliveries.');
  });
}

function listJobs(list, status, shown, refresh) {
  return fill(list, async () => {
    return pagedTable(`/v1/jobs?limit=50${status ? `&status=${status}` : ''}`,
      ['Created', 'Pipeline', 'Repository', 'Status', 'Attempts', ''],
      (job) => h('tr', { 'data-job': job.id },
        h('td', {}, when(job.created_at)),
        h('td', {}, job.pipeline),
        h('td', {}, job.repository || ''),
        h('td', { class: 'status' }, job.status, job.last_error ? `: ${job.last_error}` : ''),
        h('td', {}, `${job.attempts} of ${job.max_attempts}`),
        h('td', {}, ['failed', 'dead'].includes(job.status)
          ? h('button', { type: 'button', class: 'secondary', onclick: () => report(shown, async () => {
            await call('POST', `/v1/jobs/${job.id}/retry`);
            await refresh();
          }) }, 'Retry')
          : '')), 'No jobs.');
  });
}
