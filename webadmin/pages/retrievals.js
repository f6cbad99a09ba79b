// An account's remote POP3 sources (POP3 Retrievals, doc/retrieval.md):
// the list with each one's last run, result and error, buttons to run one
// now, switch it on or off or remove it, and the form that adds one.  The
// password goes to the server and never comes back.

import { h, replace } from '../lib/dom.js';
import { api, path } from '../lib/api.js';
import { duration, relative } from '../lib/format.js';
import { field, form } from '../lib/forms.js';
import { actionButton, confirmAction, errorNotice, panel, table } from '../lib/widgets.js';

export function retrievalPanel(ctx, address) {
  return panel('Remote POP3 accounts', (body, refresh) => sources(body, ctx, address, refresh),
    { intro: 'Mail Postern fetches from other servers into this account, at each interval and at its logins.' }).node;
}

function resultText(s) {
  if (s.last_result === 'running') return 'running…';
  if (s.last_result === 'never') return s.enabled ? 'about to run' : 'not run yet';
  if (s.requested || (s.enabled && s.next_run === 0)) return 'about to run';
  if (s.last_result === 'ok') return `ok, ${s.last_fetched} fetched`;
  return `failed: ${s.last_error}`;
}

async function sources(body, ctx, address, refresh) {
  const base = path`/api/accounts/${address}/retrievals`;
  const answer = await ctx.get(base);
  const problem = h('div');
  const onError = (err) => replace(problem, errorNotice(err));
  const rows = answer.items || [];
  // due now, or running: follow it until it has ended
  const busy = rows.some((s) => s.enabled && (s.last_result === 'running' || s.requested || s.next_run === 0));
  replace(body, problem,
    table([
      { label: 'Remote', class: 'primary', cell: (s) => `${s.user}@${s.host}:${s.port}` },
      { label: 'Security', cell: (s) => `${s.tls === 'none' ? 'no TLS' : s.tls === 'implicit' ? 'TLS (POP3S)' : 'STLS'}${s.tls !== 'none' && !s.verify ? ', certificate not checked' : ''}, ${s.auth}` },
      { label: 'Into', cell: (s) => `${s.mailbox}${s.keep ? ' (kept on the server)' : ''}` },
      { label: 'Every', cell: (s) => duration(s.interval) },
      { label: 'Last run', cell: (s) => (s.last_run ? relative(s.last_run) : '–') },
      { label: 'Result', cell: (s) => h('span', { class: s.last_result === 'failed' ? 'result-failed' : null, text: resultText(s) }) },
      { label: 'Actions', class: 'actions-cell', cell: (s) => h('div', { class: 'row-actions' },
        s.enabled ? actionButton('Run now', async () => {
          await api('POST', `${base}/${s.id}/run`);
          refresh();
        }, { onError }) : null,
        actionButton(s.enabled ? 'Disable' : 'Enable', async () => {
          await api('PATCH', `${base}/${s.id}`, { enabled: !s.enabled });
          refresh();
        }, { onError }),
        actionButton('Remove', async () => {
          if (!await confirmAction(`Stop fetching from ${s.user}@${s.host}? What was fetched stays.`, 'Remove')) return;
          await api('DELETE', `${base}/${s.id}`);
          refresh();
        }, { danger: true, onError })) },
    ], rows, { empty: 'No remote account.', caption: 'Remote POP3 accounts' }),
    addForm(base, refresh));
  // follow a run until it has ended
  if (busy) setTimeout(() => { if (body.isConnected) refresh(); }, 1500);
}

function addForm(base, refresh) {
  const node = form({
    submitLabel: 'Add remote account',
    onSubmit: async (v) => {
      const body = {
        host: v.host, tls: v.tls, verify: v.verify, user: v.user, password: v.password,
        auth: v.auth, mailbox: v.mailbox || 'INBOX', keep: v.keep,
        interval: Number(v.interval || 600),
      };
      if (v.port) body.port = Number(v.port);
      await api('POST', base, body);
      node.reset();
      refresh();
      return 'Added: the first fetch starts now.';
    },
  },
  h('div', { class: 'field-row' },
    field({ label: 'Server', name: 'host', required: true, placeholder: 'pop.example.net', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' }),
    field({ label: 'Port', name: 'port', type: 'number', min: 1, max: 65535, placeholder: '995 or 110', hint: 'Empty: 995 for TLS, else 110.' })),
  h('div', { class: 'field-row' },
    field({ label: 'Security', name: 'tls', type: 'select', value: 'stls', options: [
      { value: 'implicit', label: 'TLS from the start (POP3S)' },
      { value: 'stls', label: 'STLS (STARTTLS)' },
      { value: 'none', label: 'none (only on a trusted network)' }] }),
    field({ label: 'Login', name: 'auth', type: 'select', value: 'user', options: [
      { value: 'user', label: 'USER/PASS' }, { value: 'apop', label: 'APOP' },
      { value: 'plain', label: 'AUTH PLAIN (SASL)' }] })),
  field({ label: 'Check the server\'s certificate', name: 'verify', type: 'checkbox', checked: true,
          hint: 'Untick only for a server with a self-signed certificate.' }),
  h('div', { class: 'field-row' },
    field({ label: 'User name there', name: 'user', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' }),
    field({ label: 'Password there', name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
  h('div', { class: 'field-row' },
    field({ label: 'Into mailbox', name: 'mailbox', placeholder: 'INBOX', autocomplete: 'off' }),
    field({ label: 'Every (seconds)', name: 'interval', type: 'number', min: 10, max: 604800, value: '600' })),
  field({ label: 'Leave the mail on the server (fetch only what is new)', name: 'keep', type: 'checkbox' }));
  return node;
}
