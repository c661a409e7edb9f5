// The pipelines' results, newest first: filtered by pipeline, repository or author, 50 at a time, each
// opened to its findings (commitments, a security review, a change summary) and what it cost.
import { pipelines } from '../api.js';
import { choice, count, errorNote, fill, h, onSubmit, table, when } from '../dom.js';
import { pagedTable } from '../lists.js';

export const title = 'Analyses';

export async function render(main) {
  const results = h('div');
  const shown = h('div', { 'aria-live': 'polite' });
  const summary = errorNote();
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter analyses' },
    h('label', { for: 'analysis-pipeline' }, 'Pipeline'),
    choice({ id: 'analysis-pipeline', name: 'pipeline' }, pipelines, { any: true }),
    h('label', { for: 'analysis-repository' }, 'Repository (owner/name)'),
    h('input', { id: 'analysis-repository', name: 'repository', type: 'text' }),
    h('label', { for: 'analysis-author' }, 'Author’s email'),
    h('input', { id: 'analysis-author', name: 'author', type: 'email' }),
    h('p', {}, h('button', { type: 'submit' }, 'Filter')),
    summary);
  const list = (query) => fill(results, () => pagedTable(`/v1/analyses?limit=50${query}`,
    ['Analysed', 'Pipeline', 'Repository', 'Commit', 'Author', 'Tokens', ''], (analysis) => row(analysis, shown), 'No analyses.'));
  onSubmit(filters, summary, async () => {
    const params = new URLSearchParams();
    for (const name of ['pipeline', 'repository', 'author']) {
      const value = filters.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    shown.replaceChildren();
    await list(params.size ? `&${params}` : '');
  });
  main.append(h('h1', {}, 'Analyses'), h('section', {}, filters), shown, h('section', {}, results));
  await list('');
}

function row(analysis, shown) {
  return h('tr', { 'data-analysis': analysis.id },
    h('td', {}, when(analysis.created_at)),
    h('td', {}, analysis.pipeline),
    h('td', {}, analysis.repository),
    h('td', {}, h('code', {}, analysis.sha.slice(0, 10))),
    h('td', {}, analysis.author_email || analysis.author_name || ''),
    h('td', { class: 'number' }, analysis.reused ? 'reused' : count(analysis.total_tokens)),
    h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Open the ${analysis.pipeline} of ${analysis.sha.slice(0, 10)}`,
      onclick: () => shown.replaceChildren(detail(analysis, shown)) }, 'Open')));
}

/** One analysis: its commit, what it found and what it cost. */
function detail(analysis, shown) {
  const close = h('button', { type: 'button', class: 'secondary', onclick: () => shown.replaceChildren() }, 'Close');
  return h('section', { id: 'analysis-detail', 'aria-labelledby': 'analysis-heading' },
    h('h2', { id: 'analysis-heading' }, `${analysis.pipeline} of ${analysis.repository} @ ${analysis.sha.slice(0, 10)}`),
    h('dl', {},
      h('dt', {}, 'Author'), h('dd', {}, [analysis.author_name, analysis.author_email].filter(Boolean).join(' · ') || 'unknown'),
      h('dt', {}, 'Committed'), h('dd', {}, when(analysis.committed_at) || 'unknown'),
      h('dt', {}, 'Model'), h('dd', {}, `${analysis.provider}/${analysis.model}`),
      h('dt', {}, 'Tokens'), h('dd', {}, analysis.reused
        ? 'none (reused from an earlier result for the same message)'
        : `${count(analysis.prompt_tokens)} in, ${count(analysis.completion_tokens)} out`)),
    findings(analysis.pipeline, analysis.output || {}),
    h('p', {}, close));
}

/** The output as the pipeline means it, or as JSON when it has a shape this page does not know. */
function findings(pipeline, output) {
  if (pipeline === 'commitments' && Array.isArray(output.commitments)) {
    return output.commitments.length === 0 ? h('p', { class: 'muted' }, 'No commitments found.') : table(
      ['Commitment', 'Owner', 'Due', 'Confidence'],
      output.commitments.map((item) => h('tr', { 'data-commitment': '' },
        h('td', {}, item.text),
        h('td', {}, item.owner_handle || item.owner || ''),
        h('td', {}, item.due_date || item.due_text || ''),
        h('td', {}, typeof item.confidence === 'number' ? `${Math.round(item.confidence * 100)}%` : ''))));
  }
  if (pipeline === 'security_review' && Array.isArray(output.findings)) {
    return [
      h('p', {}, `Risk: ${output.risk ?? 'unknown'}`),
      output.findings.length === 0 ? h('p', { class: 'muted' }, 'No findings.') : table(
        ['Severity', 'Category', 'File', 'Finding'],
        output.findings.map((item) => h('tr', { 'data-finding': '' },
          h('td', {}, item.severity), h('td', {}, item.category), h('td', {}, item.file || ''), h('td', {}, item.description)))),
    ];
  }
  if (pipeline === 'change_summary' && typeof output.note === 'string') {
    return h('dl', {},
      h('dt', {}, 'Summary'), h('dd', {}, output.push_summary || output.note),
      h('dt', {}, 'Note'), h('dd', {}, output.note),
      h('dt', {}, 'Areas'), h('dd', {}, (output.areas || []).join(', ')),
      h('dt', {}, 'Impact'), h('dd', {}, output.impact || ''));
  }
  return h('pre', {}, JSON.stringify(output, null, 2));
}
