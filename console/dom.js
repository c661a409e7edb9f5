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

/** A date-time as the reader's locale writes it. */
export function when(text) {
  return text ? new Date(text).toLocaleString() : '';
}

/** A number with the reader's grouping. */
export function count(value) {
  return Number(value).toLocaleString();
}

/** Shows `problem` at the fields it names (by `pointer` or `field`), the rest in `summary`. */
export function showProblem(form, summary, problem) {
  form.querySelectorAll('.field-error').forEach((node) => node.remove());
  form.querySelectorAll('[aria-invalid]').forEach((node) => node.removeAttribute('aria-invalid'));
  summary.textContent = problem.message;
  let marked = false;
  for (const error of problem.errors || []) {
    const name = String(error.pointer || error.field || '').replace(/^#?\//, '').split('/')[0];
    const input = name && form.elements.namedItem(name);
    if (!(input instanceof HTMLElement)) continue;
    const note = h('p', { class: 'field-error', id: `${name}-error` }, error.detail || error.message || 'Invalid.');
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', note.id);
    input.closest('label, fieldset')?.after(note) ?? input.after(note);
    marked = true;
  }
  // A form of one field (`data-field`) has the problem at that field when it names none.
  const only = form.dataset.field && form.elements.namedItem(form.dataset.field);
  if (!marked && only instanceof HTMLElement) only.setAttribute('aria-invalid', 'true');
}

/** A table with column headings and the given rows. */
export function table(headings, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headings.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows));
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
