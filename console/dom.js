// Building the page with DOM calls only: text is always set as text, never parsed as HTML.

/** An element: `h('button', {type: 'submit', onclick}, 'Save')`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An SVG element, attributes as given. */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

/** A select of `values` (each its own label) with `current` chosen; with `any`, a first choice `''`
 *  labelled "any" (a list's filter that filters nothing). */
export function choice(attributes, values, { current, any = false } = {}) {
  return h('select', attributes, any ? h('option', { value: '' }, 'any') : null,
    values.map((value) => h('option', { value, selected: value === current }, value)));
}

/** The rate limit's headroom as the last answer stated it (`api.js` `rateLimit()`), or that it is not
 *  known yet. */
export function headroomNote(headroom) {
  return h('p', { class: 'muted', id: 'headroom' }, headroom
    ? `${count(headroom.remaining)} of ${count(headroom.limit)} requests left in the current minute.`
    : 'Headroom is shown after the next call.');
}

/** A date-time as the reader's locale writes it. */
export function when(text) {
  return text ? new Date(text).toLocaleString() : '';
}

/** A number with the reader's grouping. */
export function count(value) {
  return Number(value).toLocaleString();
}

/** Shows `problem` at the fields it names (by `pointer` or `field`), the rest in `summary`. In a form of
 *  one field (`data-field`, a JSON document say) every error is shown at that field, with where it is. */
export function showProblem(form, summary, problem) {
  form.querySelectorAll('.field-error').forEach((node) => node.remove());
  form.querySelectorAll('[aria-invalid]').forEach((node) => node.removeAttribute('aria-invalid'));
  form.querySelectorAll('[data-described]').forEach((node) => {
    if (node.dataset.described) node.setAttribute('aria-describedby', node.dataset.described);
    else node.removeAttribute('aria-describedby');
    delete node.dataset.described;
  });
  summary.textContent = problem.message;
  const only = form.dataset.field && form.elements.namedItem(form.dataset.field);
  const last = new Map(); // the node each field's next note goes after, so notes keep the problem's order
  (problem.errors || []).forEach((error, index) => {
    const pointer = String(error.pointer ?? error.field ?? '');
    const name = pointer.replace(/^#?\//, '').split('/')[0];
    const named = name && form.elements.namedItem(name);
    const input = named instanceof HTMLElement ? named : only instanceof HTMLElement ? only : null;
    if (!input) return;
    const detail = error.detail || error.message || 'Invalid.';
    const note = h('p', { class: 'field-error', id: `${input.name}-error-${index}` },
      input === named ? detail : `At ${pointer || 'the whole document'}: ${detail}`);
    input.setAttribute('aria-invalid', 'true');
    if (!('described' in input.dataset)) input.dataset.described = input.getAttribute('aria-describedby') ?? '';
    input.setAttribute('aria-describedby', `${input.getAttribute('aria-describedby') ?? ''} ${note.id}`.trim());
    (last.get(input) ?? input.closest('label, fieldset') ?? input).after(note);
    last.set(input, note);
  });
  // A problem of a one-field form is that field's, whether or not it names it.
  if (only instanceof HTMLElement) only.setAttribute('aria-invalid', 'true');
}

/** A table with column headings and the given rows. */
export function table(headings, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headings.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows));
}

/** A message that something failed, announced at once. */
export function errorNote(text) {
  return h('p', { class: 'error', role: 'alert' }, text);
}

/** Fills `area` with what `build` answers (a node or a list of them), or with the problem it meets. */
export async function fill(area, build) {
  try {
    area.replaceChildren(...[await build()].flat());
  } catch (problem) {
    area.replaceChildren(errorNote(problem.message));
  }
}

/** Draws a page of `main` whose content is read first: its heading, then what `build` answers (or the
 *  problem it meets). */
export async function headed(main, heading, build) {
  const body = h('div');
  main.append(h('h1', {}, heading), body);
  await fill(body, build);
}

/** Runs a button's `action`, showing in `area` the text it answers (as a status) or the problem it meets. */
export async function report(area, action) {
  try {
    const text = await action();
    if (text) area.replaceChildren(h('p', { role: 'status' }, text));
  } catch (problem) {
    area.replaceChildren(errorNote(problem.message));
  }
}

/** Shows in `area` a secret that is shown this once (a token, a signing secret), with what to do with it,
 *  until the reader is done with it. */
export function shownOnce(area, heading, explanation, ...content) {
  area.replaceChildren(h('section', { class: 'token' },
    h('h2', {}, heading),
    h('p', {}, explanation),
    ...content,
    h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => area.replaceChildren() }, 'Done'))));
}

/** Runs `action` when `form` is submitted, with `summary` (and `status`, if given) cleared first; a
 *  problem the action meets is shown at the fields it names and in `summary`. */
export function onSubmit(form, summary, action, status) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    summary.textContent = '';
    if (status) status.textContent = '';
    try {
      await action();
    } catch (problem) {
      showProblem(form, summary, problem);
    }
  });
}
