// Where GitHub's sign-in comes back to: the callback sent the browser here with GitHub's code and state
// in the address's fragment. They leave the address at once (no history entry keeps them), and the
// console finishes the sign-in by calling the callback itself.
import { finishGitHubSignIn } from '../api.js';
import { errorNote, h } from '../dom.js';

export const title = 'Signing in with GitHub';

export async function render(main) {
  const values = new URLSearchParams(location.hash.split('?')[1] || '');
  history.replaceState(null, '', '#/github');
  const summary = errorNote();
  main.append(h('section', {}, h('h1', {}, 'Signing in with GitHub'), summary,
    h('p', {}, h('a', { href: '#/login' }, 'Back to sign in'))));
  if (values.has('error')) {
    summary.textContent = `GitHub did not sign you in: ${values.get('error_description') || values.get('error')}.`;
    return;
  }
  if (!values.get('code') || !values.get('state')) {
    summary.textContent = 'There is no sign-in to finish here; start again.';
    return;
  }
  try {
    await finishGitHubSignIn(values.get('code'), values.get('state'));
  } catch (problem) {
    summary.textContent = problem.message;
  }
}
