// #/accounts/ADDRESS - one account: quota and usage, password, webadmin
// right (server admin), policies, aliases, mailboxes with their ACLs
// (pages/mailboxes.js), remote POP3 accounts (pages/retrievals.js),
// alerts, and its deletion.

import { append, h, replace } from '../lib/dom.js';
import { api, path } from '../lib/api.js';
import { bytes, count, quota } from '../lib/format.js';
import { field, form, matchPasswords } from '../lib/forms.js';
import { domainOf, href } from '../lib/links.js';
import { policyForm } from '../lib/policies.js';
import { actionButton, confirmAction, errorNotice, nameList, panel, section } from '../lib/widgets.js';
import { mailboxSections } from './mailboxes.js';
import { alertList, alertForm } from './alerts.js';
import { retrievalPanel } from './retrievals.js';

export function render(view, ctx) {
  const address = ctx.params.address;
  const accountPath = path`/api/accounts/${address}`;
  const domainName = domainOf(address);
  const alerts = panel('Alerts', (body, refresh) => accountAlerts(body, ctx, address, refresh),
    { intro: 'Shown once, as the answer to this account\'s next POP login.' });
  append(view,
    h('p', { class: 'crumbs' }, h('a', { href: href.domains(), text: 'Domains' }), ' / ',
      domainName ? h('a', { href: href.domain(domainName), text: domainName }) : null, ' / '),
    h('h1', { text: address }),
    panel('Real name', (body, refresh) => realName(body, ctx, accountPath, refresh),
      { intro: 'Shown beside the address in these pages.' }).node,
    panel('Quota and usage', (body, refresh) => usage(body, ctx, accountPath, refresh)).node,
    ...mailboxSections(ctx, address),
    retrievalPanel(ctx, address),
    panel('Aliases', (body, refresh) => accountAliases(body, ctx, accountPath, domainName, refresh),
      { intro: 'Other names of this account, in addresses and logins.' }).node,
    alerts.node,
    h('section', { class: 'card' }, h('h2', { text: 'Post an alert' }),
      alertForm({ account: address, onPosted: alerts.refresh })),
    passwordSection(accountPath),
    ctx.isServerAdmin ? panel('Web admin right', (body) => webadminRight(body, ctx, accountPath),
      { intro: 'Whether this account may log in here: as admin of its domain, or of the whole server.' }).node : null,
    panel('Policies', (body) => accountPolicies(body, ctx, accountPath)).node,
    deleteSection(address, domainName));
}

async function usage(body, ctx, accountPath, refresh) {
  const a = await ctx.get(accountPath);
  const limited = Number.isFinite(a.quota) && a.quota > 0;
  replace(body,
    h('dl', { class: 'facts' },
      h('dt', { text: 'Used' }), h('dd', {}, `${bytes(a.used)} of ${quota(a.quota)}`,
        limited ? h('meter', { min: 0, max: a.quota, value: a.used, high: a.quota * 0.9, 'aria-label': 'Quota used' }) : null),
      h('dt', { text: 'Messages' }), h('dd', { text: count(a.messages) }),
      h('dt', { text: 'May act as other users (SASL admin)' }), h('dd', { text: a.admin ? 'yes' : 'no' })),
    form({
      submitLabel: 'Save quota',
      class: 'inline-form',
      onSubmit: async (values) => {
        await api('PATCH', accountPath, { quota: values.quota || 'none' });
        refresh();
      },
    }, field({ label: 'Quota', name: 'quota', value: typeof a.quota === 'string' ? a.quota : '',
               placeholder: limited ? bytes(a.quota) : 'none', autocomplete: 'off',
               hint: 'Such as 500M or 2G; none (or empty) for no limit.' })));
}

async function realName(body, ctx, accountPath, refresh) {
  const a = await ctx.get(accountPath);
  replace(body,
    h('p', { class: 'real-name', text: a.real_name || '(none)' }),
    form({ submitLabel: 'Save real name', class: 'inline-form', onSubmit: async (values) => {
      await api('PATCH', accountPath, { real_name: values.real_name.trim() });
      refresh();
    } }, field({ label: 'Real name', name: 'real_name', value: a.real_name || '', autocomplete: 'off',
                 maxlength: 200, hint: 'Such as Jane Smith; empty for none.' })));
}

function passwordSection(accountPath) {
  const node = form({
    submitLabel: 'Set password',
    onSubmit: async (values) => {
      await api('POST', `${accountPath}/password`, { password: values.password });
      node.reset();
      return 'The password is changed. Sessions already open go on.';
    },
  }, h('div', { class: 'field-row' },
    field({ label: 'New password', name: 'password', type: 'password', required: true, autocomplete: 'new-password' }),
    field({ label: 'New password again', name: 'password2', type: 'password', required: true, autocomplete: 'new-password' })));
  matchPasswords(node);
  return section('Password', node);
}

async function webadminRight(body, ctx, accountPath) {
  const a = await ctx.get(accountPath);
  replace(body, form({
    submitLabel: 'Save web admin right',
    class: 'inline-form',
    onSubmit: async (values) => {
      const answer = await api('PATCH', accountPath, { webadmin: values.webadmin });
      return `Web admin right: ${answer?.webadmin ?? values.webadmin}.`;
    },
  }, field({ label: 'Web admin right', name: 'webadmin', type: 'select', value: a.webadmin || 'none',
             options: [{ value: 'none', label: 'none' }, { value: 'domain', label: 'domain: its own domain' },
                       { value: 'server', label: 'server: everything' }] })));
}

async function accountPolicies(body, ctx, accountPath) {
  const a = await ctx.get(accountPath);
  replace(body, policyForm({
    policies: a.policies || {},
    level: 'account',
    save: async (changes) => (await api('PATCH', accountPath, { policies: changes })).policies,
  }));
}

async function accountAliases(body, ctx, accountPath, domainName, refresh) {
  const a = await ctx.get(accountPath);
  replace(body,
    nameList(a.aliases || [], { noun: 'alias', empty: 'No alias.',
      remove: async (alias) => { await api('DELETE', `${accountPath}/aliases/${encodeURIComponent(alias)}`); refresh(); } }),
    form({ submitLabel: 'Add alias', class: 'inline-form', onSubmit: async (values) => {
      await api('POST', `${accountPath}/aliases`, { alias: values.alias });
      refresh();
    } }, field({ label: 'New alias', name: 'alias', required: true, placeholder: 'info',
                 hint: domainName ? `A name in ${domainName}.` : null,
                 autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 128 })));
}

async function accountAlerts(body, ctx, address, refresh) {
  const answer = await ctx.get(`/api/alerts?account=${encodeURIComponent(address)}`);
  replace(body, alertList(answer, { onChange: refresh, showTarget: false }));
}

function deleteSection(address, domainName) {
  const problem = h('div');
  return section('Delete this account', problem,
    h('p', { class: 'intro', text: 'Its mailboxes and all its mail go with it, and every access right naming it.' }),
    actionButton(`Delete ${address}`, async () => {
      if (!await confirmAction(`Delete the account ${address} and all its mail?`, 'Delete account')) return;
      await api('DELETE', path`/api/accounts/${address}`);
      location.hash = domainName ? href.domain(domainName) : href.domains();
    }, { danger: true, onError: (err) => replace(problem, errorNotice(err)) }));
}
