// The Postern web admin: the login form, the shell (navigation, who is
// logged in) and the hash router that shows one page at a time.
// Each page is a module with render(view, ctx); see webadmin/README.md.

import { append, h } from './lib/dom.js';
import { api, isAbort, onUnauthorized, setCsrfToken } from './lib/api.js';
import { bindForm, showMessage } from './lib/forms.js';
import { errorNotice, notice } from './lib/widgets.js';
import * as dashboard from './pages/dashboard.js';
import * as domains from './pages/domains.js';
import * as domain from './pages/domain.js';
import * as account from './pages/account.js';
import * as alerts from './pages/alerts.js';
import * as settings from './pages/settings.js';
import * as queue from './pages/queue.js';
import * as log from './pages/log.js';

const routes = [
  { path: [], page: dashboard, title: 'Dashboard' },
  { path: ['domains'], page: domains, title: 'Domains' },
  { path: ['domains', ':name'], page: domain, title: 'Domain' },
  { path: ['accounts', ':address'], page: account, title: 'Account' },
  { path: ['alerts'], page: alerts, title: 'Alerts' },
  { path: ['settings'], page: settings, title: 'Settings', serverOnly: true },
  { path: ['queue'], page: queue, title: 'Queue', serverOnly: true },
  { path: ['log'], page: log, title: 'Log', serverOnly: true },
];

const $ = (id) => document.getElementById(id);
let session = null;
let current = null; // the page shown: {view, controller}

async function boot() {
  wireShell();
  onUnauthorized(() => showLogin('Your session has ended: log in again.'));
  try {
    startApp(await api('GET', '/api/session', undefined, { quiet401: true }));
  } catch (err) {
    showLogin(err.status === 401 ? null : err.message);
  }
}

function wireShell() {
  bindForm($('login-form'), login);
  $('logout-button').addEventListener('click', logout);
  $('menu-button').addEventListener('click', () => setMenu(!document.body.classList.contains('nav-open')));
  $('nav').addEventListener('click', (event) => { if (event.target.closest('a')) setMenu(false); });
  window.addEventListener('hashchange', showRoute);
}

async function login(values) {
  const answer = await api('POST', '/api/login', { user: values.user, password: values.password }, { quiet401: true });
  $('login-form').reset();
  startApp(answer);
}

async function logout() {
  try {
    await api('POST', '/api/logout', undefined, { quiet401: true });
  } catch (err) {
    if (err.status !== 401) {
      current?.view.prepend(errorNotice(err));
      return;
    }
  }
  showLogin('You have logged out.');
}

function startApp(answer) {
  session = { user: answer.user, role: answer.role, domains: answer.domains || [] };
  setCsrfToken(answer.csrf);
  $('who-user').textContent = session.user;
  $('who-role').textContent = session.role === 'server' ? 'server admin' : 'domain admin';
  for (const item of document.querySelectorAll('[data-server-only]')) item.hidden = session.role !== 'server';
  $('login').hidden = true;
  $('app').hidden = false;
  showRoute();
}

function showLogin(message) {
  stopPage();
  session = null;
  setCsrfToken('');
  $('app').hidden = true;
  $('login').hidden = false;
  document.title = 'Log in - Postern admin';
  const formNode = $('login-form');
  formNode.querySelector('.form-message').hidden = true;
  if (message) showMessage(formNode, message, 'info');
  $('login-user').focus();
}

function setMenu(open) {
  document.body.classList.toggle('nav-open', open);
  $('menu-button').setAttribute('aria-expanded', String(open));
}

function stopPage() {
  if (!current) return;
  current.controller.abort();
  current.view.remove();
  current = null;
}

/** Shows the page the hash names: #/domains/example.com?q=smi */
function showRoute() {
  if (!session) return;
  stopPage();
  const { segments, search, pathText } = parseHash();
  const found = findRoute(segments);
  const view = h('div', { class: 'view' });
  const controller = new AbortController();
  current = { view, controller };
  $('page').append(view);
  markNav(segments[0] || '');

  if (!found) return notFound(view);
  const { route, params } = found;
  document.title = `${route.title} - Postern admin`;
  if (route.serverOnly && session.role !== 'server') {
    return append(view, h('h1', { text: route.title }), notice('This page is for server admins only.', 'error'));
  }
  const ctx = pageContext({ params, search, pathText, controller });
  $('page').focus({ preventScroll: true });
  window.scrollTo(0, 0);
  Promise.resolve()
    .then(() => route.page.render(view, ctx))
    .catch((err) => { if (!isAbort(err) && !err.sessionEnded) view.append(errorNotice(err)); });
}

function pageContext({ params, search, pathText, controller }) {
  const { signal } = controller;
  return {
    params,
    search,
    session,
    signal,
    isServerAdmin: session.role === 'server',
    /** GET with the page's signal: leaving the page cancels it. */
    get: (apiPath) => api('GET', apiPath, undefined, { signal }),
    /** Runs fn every ms (after each run ends) until stopped or the page is left. */
    every(ms, fn) {
      let timer = null;
      let stopped = false;
      const tick = async () => {
        try {
          await fn();
        } catch (err) {
          if (!isAbort(err) && !err.sessionEnded) console.error(err);
        }
        if (!stopped && !signal.aborted) timer = setTimeout(tick, ms);
      };
      timer = setTimeout(tick, ms);
      const stop = () => { stopped = true; clearTimeout(timer); };
      signal.addEventListener('abort', stop);
      return stop;
    },
    /** Keeps a page's state (search, offset) in the address without showing the page again. */
    setSearch(values) {
      const q = new URLSearchParams();
      for (const [key, value] of Object.entries(values)) if (value) q.set(key, value);
      const text = q.toString();
      history.replaceState(null, '', `#/${pathText}${text ? `?${text}` : ''}`);
    },
  };
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const mark = raw.indexOf('?');
  const pathText = mark >= 0 ? raw.slice(0, mark) : raw;
  const search = new URLSearchParams(mark >= 0 ? raw.slice(mark + 1) : '');
  const segments = pathText.split('/').filter(Boolean).map(safeDecode);
  return { segments, search, pathText };
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function findRoute(segments) {
  for (const route of routes) {
    if (route.path.length !== segments.length) continue;
    const params = {};
    const ok = route.path.every((part, i) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = segments[i];
        return true;
      }
      return part === segments[i];
    });
    if (ok) return { route, params };
  }
  return null;
}

function markNav(first) {
  for (const link of document.querySelectorAll('#nav a[data-route]')) {
    const active = link.dataset.route === first || (first === 'accounts' && link.dataset.route === 'domains');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function notFound(view) {
  document.title = 'Not found - Postern admin';
  append(view, h('h1', { text: 'No such page' }),
    h('p', {}, 'There is no page at this address. ', h('a', { href: '#/', text: 'Go to the dashboard' }), '.'));
}

boot();
