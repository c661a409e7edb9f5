// The LLM policy: the version in force as JSON to edit (saving makes the next version; a document that
// is not JSON, or that the API refuses, is shown at the field, the member the API names selected in it,
// and nothing changes), and any older version next to the current one as a line diff, with a roll back
// that makes it the next version again.
import { call } from '../api.js';
import { h, onSubmit, when } from '../dom.js';

export const title = 'Policy';

export async function render(main) {
  const status = h('p', { role: 'status', id: 'policy-status' });
  const versions = h('div');
  const editor = h('textarea', { id: 'policy-document', name: 'document', rows: 18, spellcheck: 'false', 'aria-describedby': 'policy-error' });
  const summary = h('p', { class: 'error', role: 'alert', id: 'policy-error' });
  const form = h('form', { 'aria-labelledby': 'policy-heading', 'data-field': 'document' },
    h('h2', { id: 'policy-heading' }, 'The policy in force'),
    h('label', { for: 'policy-document' }, 'Policy (JSON)'), editor, summary,
    h('p', {}, h('button', { type: 'submit' }, 'Save as a new version')));
  let current;
  async function load() {
    current = await call('GET', '/v1/policy');
    editor.value = pretty(current.policy);
    status.textContent = `Version ${current.version} in force${current.created_at ? ` since ${when(current.created_at)}` : ''}.`;
    versions.replaceChildren(history(current, status, load));
  }
  onSubmit(form, summary, async () => {
    editor.removeAttribute('aria-invalid');
    let policy;
    try {
      policy = JSON.parse(editor.value);
    } catch (error) {
      editor.setAttribute('aria-invalid', 'true');
      summary.textContent = `Not JSON: ${error.message}`;
      return;
    }
    // Sent as shown: keys sorted, two spaces, so a member the API names can be found by its line.
    editor.value = pretty(policy);
    let saved;
    try {
      saved = await call('PUT', '/v1/policy', policy);
    } catch (problem) {
      const pointer = problem.errors?.[0]?.pointer;
      if (typeof pointer === 'string') select(editor, policy, pointer);
      throw problem;
    }
    await load();
    status.textContent = `Saved as version ${saved.version}.`;
  });
  main.append(h('h1', {}, 'Policy'), status, h('section', {}, form), h('section', {}, h('h2', {}, 'Earlier versions'), versions));
  try {
    await load();
  } catch (problem) {
    summary.textContent = problem.message;
  }
}

function pretty(policy) {
  return JSON.stringify(sortKeys(policy), null, 2);
}

/** Selects in `editor` the line of the member of `policy` at `pointer` (or of the deepest member of it
 *  there is), the editor holding `pretty(policy)`, and scrolls it into view. */
function select(editor, policy, pointer) {
  const segments = pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  let value = sortKeys(policy);
  let line = 0;
  for (const segment of segments) {
    if (!value || typeof value !== 'object') break;
    const keys = Array.isArray(value) ? value.map((_, index) => String(index)) : Object.keys(value);
    const at = keys.indexOf(segment);
    if (at < 0) break;
    // The container's opening line, then each member before this one, as JSON.stringify(…, null, 2) lays them out.
    line += 1 + keys.slice(0, at).reduce((sum, key) => sum + lineCount(value[key]), 0);
    value = value[segment];
  }
  const lines = editor.value.split('\n');
  const start = lines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line] ?? '').length);
  editor.scrollTop = Math.max(0, (line - 3) * (editor.scrollHeight / lines.length));
}

/** How many lines `value` takes in JSON.stringify(value, null, 2). */
function lineCount(value) {
  if (!value || typeof value !== 'object') return 1;
  const members = Array.isArray(value) ? value : Object.values(value);
  return members.length === 0 ? 1 : 2 + members.reduce((sum, member) => sum + lineCount(member), 0);
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
  }
  return value;
}

/** A version to compare with the current one, the diff, and the roll back. */
function history(current, status, reload) {
  if (current.version === 0) return h('p', { class: 'muted' }, 'Only the first version exists.');
  const picker = h('select', { id: 'policy-version' },
    Array.from({ length: current.version }, (_, index) => current.version - 1 - index)
      .map((version) => h('option', { value: version }, `version ${version}`)));
  const diff = h('div', { id: 'policy-diff' });
  const show = async () => {
    const older = await call('GET', `/v1/policy?version=${picker.value}`);
    diff.replaceChildren(
      h('pre', { class: 'diff', 'aria-label': `Changes from version ${older.version} to version ${current.version}` },
        lineDiff(pretty(older.policy).split('\n'), pretty(current.policy).split('\n')).map(([mark, line]) =>
          h('span', { class: mark === '+' ? 'added' : mark === '-' ? 'removed' : 'same' }, `${mark} ${line}`))),
      h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: async () => {
        const saved = await call('PUT', '/v1/policy', older.policy);
        await reload();
        status.textContent = `Version ${older.version} is back, as version ${saved.version}.`;
      } }, `Roll back to version ${older.version}`)));
  };
  picker.addEventListener('change', show);
  show();
  return h('div', {}, h('label', { for: 'policy-version' }, 'Compare with'), picker, diff);
}

/** The lines of `a` and `b` marked '-' (only in a), '+' (only in b) or ' ' (both), by longest common
 *  subsequence; policies are a few dozen lines. */
function lineDiff(a, b) {
  const common = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const lines = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) { lines.push([' ', a[i]]); i += 1; j += 1; }
    else if (i < a.length && (j === b.length || common[i + 1][j] >= common[i][j + 1])) { lines.push(['-', a[i]]); i += 1; }
    else { lines.push(['+', b[j]]); j += 1; }
  }
  return lines;
}
