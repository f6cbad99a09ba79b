// #/ - live counters from GET /api/status, refreshed every 5 s (server
// admin); a domain admin sees their domains with their account counts.

import { append, h, replace } from '../lib/dom.js';
import { listItems } from '../lib/api.js';
import { count, duration } from '../lib/format.js';
import { href } from '../lib/links.js';
import { errorNotice, loading, section, statusLine, table } from '../lib/widgets.js';

const REFRESH_MS = 5000;

const counters = [
  { key: 'pop', label: 'POP sessions', value: (s) => count(s.connections?.pop) },
  { key: 'lmtp', label: 'LMTP sessions', value: (s) => count(s.connections?.lmtp) },
  { key: 'queue', label: 'Queued messages', value: (s) => count(s.queue), link: '#/queue' },
  { key: 'domains', label: 'Domains', value: (s) => count(s.domains), link: '#/domains' },
  { key: 'accounts', label: 'Accounts', value: (s) => count(s.accounts) },
  { key: 'uptime', label: 'Up for', value: (s) => duration(s.uptime) },
  { key: 'workers', label: 'Workers', value: (s) => count(s.workers) },
];

export async function render(view, ctx) {
  append(view, h('h1', { text: 'Dashboard' }));
  if (ctx.isServerAdmin) return serverDashboard(view, ctx);
  return domainDashboard(view, ctx);
}

async function serverDashboard(view, ctx) {
  const values = new Map();
  const grid = h('div', { class: 'counters' }, counters.map((c) => counterCard(c, values)));
  const version = h('p', { class: 'version' });
  const status = statusLine();
  const problem = h('div');
  append(view, problem, grid, version, status);

  const refresh = async () => {
    try {
      const s = await ctx.get('/api/status');
      for (const c of counters) values.get(c.key).textContent = c.value(s);
      version.textContent = s.version ? `Postern ${s.version}` : '';
      status.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshed every ${REFRESH_MS / 1000} s.`;
      replace(problem);
    } catch (err) {
      if (err.name === 'AbortError' || err.sessionEnded) throw err;
      replace(problem, errorNotice(err));
    }
  };
  await refresh();
  ctx.every(REFRESH_MS, refresh);
}

function counterCard(counter, values) {
  const value = h('dd', { class: 'counter-value', text: '…' });
  values.set(counter.key, value);
  const label = counter.link ? h('a', { href: counter.link, text: counter.label }) : counter.label;
  return h('dl', { class: 'counter card', dataset: { counter: counter.key } }, h('dt', {}, label), value);
}

async function domainDashboard(view, ctx) {
  const body = h('div', {}, loading());
  append(view, section('Your domains', body));
  const refresh = async () => {
    const answer = await ctx.get('/api/domains?limit=500');
    replace(body, table([
      { label: 'Domain', class: 'primary', cell: (d) => h('a', { href: href.domain(d.name), text: d.name }) },
      { label: 'Accounts', class: 'num', cell: (d) => count(d.accounts) },
    ], listItems(answer), { empty: 'You administer no domain.' }));
  };
  await refresh();
  ctx.every(REFRESH_MS, refresh);
}
