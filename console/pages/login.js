// Signing in with an email and password, or with GitHub when the deployment offers it (the session is
// kept in memory; see api.js).
import { signInMethods, signIn, useOperatorToken } from '../api.js';
import { errorNote, h, onSubmit } from '../dom.js';

export const title = 'Sign in';

export async function render(main) {
  const summary = errorNote();
  const form = h('form', { novalidate: true },
    h('label', { for: 'email' }, 'Email'),
    h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Password'),
    h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('p', {}, h('button', { type: 'submit' }, 'Sign in')),
    summary);
  onSubmit(form, summary, () => signIn(form.elements.email.value.trim(), form.elements.password.value));
  const methods = await signInMethods().catch(() => ({ github: false }));
  main.append(h('section', {}, h('h1', {}, 'Sign in to ControlPlane'), form,
    // A navigation, not a call: the start sets this browser's binding cookie and sends it to GitHub, which
    // sends it back to the callback and on to #/github.
    methods.github ? h('p', {}, h('a', { class: 'button secondary', href: '/v1/auth/github/start', id: 'github-sign-in' }, 'Sign in with GitHub')) : null,
    h('p', {}, 'Invited? ', h('a', { href: '#/accept' }, 'Accept an invitation'))), operatorForm());
  form.elements.email.focus();
}

/** The platform operator's way in: a token minted with `controlplane operator-token`, kept in memory. */
function operatorForm() {
  const summary = errorNote();
  const form = h('form', { 'aria-labelledby': 'operator-heading' },
    h('h2', { id: 'operator-heading' }, 'Operators'),
    h('label', { for: 'operator-token' }, 'Operator token'),
    h('input', { id: 'operator-token', name: 'token', type: 'password', autocomplete: 'off', required: true }),
    h('p', {}, h('button', { type: 'submit', class: 'secondary' }, 'Use operator token')),
    summary);
  onSubmit(form, summary, () => useOperatorToken(form.elements.token.value.trim()));
  return h('section', {}, form);
}
