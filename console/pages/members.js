// Members and invitations: who belongs to the organisation and with which role (change it, remove a
// member and revoke their keys), and invitations (invite with a role, the token shown once, revoke a
// pending one).
import { call } from '../api.js';
import { pagedTable } from '../lists.js';
import { choice, errorNote, fill, h, onSubmit, report, shownOnce, when } from '../dom.js';

export const title = 'Members';

export async function render(main) {
  const shown = h('div', { 'aria-live': 'polite' });
  const members = h('div');
  const invitations = h('div');
  const refresh = () => Promise.all([listMembers(members, shown), listInvitations(invitations, shown)]);
  main.append(h('h1', {}, 'Members'), shown, inviteForm(shown, refresh),
    h('section', {}, h('h2', {}, 'Members'), members),
    h('section', {}, h('h2', {}, 'Invitations'), invitations));
  await refresh();
}

function inviteForm(shown, refresh) {
  const summary = errorNote();
  const form = h('form', { 'aria-labelledby': 'invite-heading' },
    h('h2', { id: 'invite-heading' }, 'Invite someone'),
    h('label', { for: 'invite-email' }, 'Email'),
    h('input', { id: 'invite-email', name: 'email', type: 'email', required: true }),
    h('label', { for: 'invite-role' }, 'Role'),
    choice({ id: 'invite-role', name: 'role' }, ['member', 'admin']),
    h('p', {}, h('button', { type: 'submit' }, 'Invite')),
    summary);
  onSubmit(form, summary, async () => {
    const invitation = await call('POST', '/v1/users/invitations', {
      email: form.elements.email.value.trim(), role: form.elements.role.value,
    });
    shownOnce(shown, `${invitation.email} invited as ${invitation.role}`,
      `Send them this invitation token (valid until ${when(invitation.expires_at)}); it is not shown again. They accept it on this console’s sign-in page (“Accept an invitation”) with a password of their own.`,
      h('code', { class: 'secret', id: 'invitation-token' }, invitation.token));
    form.reset();
    await refresh();
  });
  return h('section', {}, form);
}

function listMembers(list, shown) {
  return fill(list, async () => {
    return pagedTable('/v1/users?limit=50', ['Email', 'Role', 'Joined', ''], (member) => {
      const role = h('select', { 'aria-label': `Role of ${member.email}`, disabled: member.role === 'owner' },
        ['owner', 'admin', 'member'].map((value) => h('option', { value, selected: value === member.role, disabled: value === 'owner' && member.role !== 'owner' }, value)));
      role.addEventListener('change', async () => {
        await report(shown, async () => {
          await call('PATCH', `/v1/users/${member.id}`, { role: role.value });
          return `${member.email} is now ${role.value}.`;
        });
        await listMembers(list, shown);
      });
      return h('tr', { 'data-member': member.id },
        h('td', {}, member.email),
        h('td', {}, role),
        h('td', {}, when(member.created_at)),
        h('td', {}, member.role === 'owner' ? '' : h('button', {
          type: 'button', class: 'danger', 'aria-label': `Remove ${member.email}`, onclick: async () => {
            if (!confirm(`Remove ${member.email}? Their keys are revoked.`)) return;
            await report(shown, async () => {
              const removal = await call('DELETE', `/v1/users/${member.id}`);
              return `${removal.email} removed; ${removal.key_count} key(s) revoked.`;
            });
            await listMembers(list, shown);
          },
        }, 'Remove')));
    }, 'No members.');
  });
}

function listInvitations(list, shown) {
  return fill(list, async () => {
    return pagedTable('/v1/users/invitations?limit=50', ['Email', 'Role', 'Status', 'Expires', ''],
      (invitation) => h('tr', { 'data-invitation': invitation.id },
        h('td', {}, invitation.email),
        h('td', {}, invitation.role),
        h('td', { class: 'status' }, invitation.status),
        h('td', {}, when(invitation.expires_at)),
        h('td', {}, invitation.status !== 'pending' ? '' : h('button', {
          type: 'button', class: 'danger', 'aria-label': `Revoke the invitation of ${invitation.email}`,
          onclick: () => report(shown, async () => {
            await call('DELETE', `/v1/users/invitations/${invitation.id}`);
            await listInvitations(list, shown);
          }),
        }, 'Revoke'))), 'No invitations.');
  });
}
