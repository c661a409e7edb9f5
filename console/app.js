// The console's shell: a page per `#/name`, the sign-in page until there is a session, and the navigation
// marking where the reader is. Each page is a module exporting `title` and `render(main)`.
import { onSessionChange, operator, signedIn, signOut } from './api.js';
import * as login from './pages/login.js';
import * as accept from './pages/accept.js';
import * as github from './pages/github.js';
import * as overview from './pages/overview.js';
import * as keys from './pages/keys.js';
import * as limits from './pages/limits.js';
import * as audit from './pages/audit.js';
import * as webhooks from './pages/webhooks.js';
import * as analyses from './pages/analyses.js';
import * as interventions from './pages/interventions.js';
import * as members from './pages/members.js';
import * as policy from './pages/policy.js';
import * as tenants from './pages/tenants.js';
import * as health from './pages/health.js';
import * as usage from './pages/usage.js';

const signedOutPages = { login, accept, github };
const tenantPages = { overview, limits, policy, keys, members, webhooks, analyses, interventions, audit };
const operatorPages = { tenants, usage, health };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const logout = document.getElementById('logout');

let drawing = 0;

async function show() {
  const [set, first] = !signedIn() ? [signedOutPages, 'login']
    : operator() ? [operatorPages, 'tenants'] : [tenantPages, 'overview'];
  // `#/name`, or `#/name?…` for a page given values (GitHub's code and state).
  const asked = location.hash.replace(/^#\//, '').split('?')[0];
  const name = set[asked] ? asked : first;
  const page = set[name];
  // Signed in, the address names the page shown (after signing in from #/accept, say); signed out, it keeps
  // the page asked for, to be shown once signed in.
  if (signedIn() && asked !== name) history.replaceState(null, '', `#/${name}`);
  for (const link of nav.querySelectorAll('a')) {
    link.hidden = link.dataset.for !== (operator() ? 'operator' : 'tenant');
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page.title} · ControlPlane console`;
  main.replaceChildren();
  // Named once drawn, so a reader (or a test) waiting for the page finds it whole.
  delete main.dataset.page;
  main.setAttribute('aria-busy', 'true');
  // A page whose drawing starts a session (GitHub's return) is drawn over before it ends: only the last
  // drawing names the page.
  const turn = ++drawing;
  await page.render(main);
  if (turn !== drawing) return;
  main.removeAttribute('aria-busy');
  main.dataset.page = name;
  // The page's own first field keeps the focus it took (sign in); otherwise the reader starts at the content.
  if (!main.contains(document.activeElement)) main.focus();
}

onSessionChange((active) => {
  nav.hidden = !active;
  logout.hidden = !active;
  show();
});
logout.addEventListener('click', () => signOut());
window.addEventListener('hashchange', show);
show();
