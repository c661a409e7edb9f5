// Accepting an invitation: the token an admin sent, and a password of the invitee's own; the answer is
// their first session.
import { acceptInvitation } from '../api.js';
import { errorNote, h, onSubmit } from '../dom.js';

export const title = 'Accept an invitation';

export function render(main) {
  const summary = errorNote();
  const form = h('form', {},
    h('label', { for: 'invitation' }, 'Invitation token'),
    h('input', { id: 'invitation', name: 'token', type: 'text', autocomplete: 'off', required: true }),
    h('label', { for: 'new-password' }, 'Your password (at least 12 characters)'),
    h('input', { id: 'new-password', name: 'password', type: 'password', autocomplete: 'new-password', minlength: 12, required: true }),
    h('p', {}, h('button', { type: 'submit' }, 'Accept and sign in')),
    summary);
  onSubmit(form, summary, () => acceptInvitation(form.elements.token.value.trim(), form.elements.password.value));
  main.append(h('section', {}, h('h1', {}, 'Accept an invitation'), form,
    h('p', {}, h('a', { href: '#/overview' }, 'Back to sign in'))));
  form.elements.token.focus();
}
