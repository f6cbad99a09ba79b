// #/domains/NAME - one domain: its accounts (searched and paged on the
// server, 50 at a time), unified account, aliases, bound addresses,
// policies, and its deletion.

import { append, h, replace } from '../lib/dom.js';
import { api, isAbort, listItems, listTotal, path, query } from '../lib/api.js';
import { bytes, count, quota } from '../lib/format.js';
import { field, form, matchPasswords } from '../lib/forms.js';
import { href } from '../lib/links.js';
import { policyForm } from '../lib/policies.js';
import { actionButton, confirmAction, debounce, errorNotice, loading, nameList, pager, panel, section, table } from '../lib/widgets.js';

const PAGE = 50;
const SEARCH_DELAY_MS = 300;

export function render(view, ctx) {
  const name = ctx.params.name;
  const domainPath = path`/api/domains/${name}`;
  const accounts = accountsSection(ctx, name);
  append(view,
    h('p', { class: 'crumbs' }, h('a', { href: href.domains(), text: 'Domains' }), ' / '),
    h('h1', { text: name }),
    accounts.node,
    createAccountSection(name, accounts.reload),
    panel('Unified account', (body) => unifiedAccount(body, ctx, domainPath),
      { intro: 'Mail for unknown names of this domain goes to this account; leave it empty for none.' }).node,
    panel('Domain aliases', (body, refresh) => domainAliases(body, ctx, domainPath, refresh),
      { intro: 'Other names of this domain, in addresses and logins.' }).node,
    panel('Bound addresses', (body, refresh) => boundAddresses(body, ctx, domainPath, refresh),
      { intro: 'Logins and mail without a domain that arrive on these local IP addresses belong to this domain.' }).node,
    panel('Policies', (body) => domainPolicies(body, ctx, domainPath)).node,
    ctx.isServerAdmin ? deleteSection(name) : null);
}

/** The account list: a debounced prefix search and paging, never more than PAGE rows at once. */
function accountsSection(ctx, domainName) {
  let q = ctx.search.get('q') || '';
  let offset = Number(ctx.search.get('offset')) || 0;
  let inFlight = null;
  const results = h('div', { class: 'results' }, loading());
  const search = field({ label: 'Search accounts', name: 'q', type: 'search', value: q,
                         placeholder: 'Name starts with…', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
                         hint: 'Shows the accounts whose name starts with this text.' });
  const input = search.querySelector('input');
  ctx.signal.addEventListener('abort', () => inFlight?.abort());

  const reload = async () => {
    inFlight?.abort(); // an older, slower answer must not replace a newer one
    const controller = new AbortController();
    inFlight = controller;
    results.setAttribute('aria-busy', 'true');
    try {
      const answer = await api('GET', path`/api/domains/${domainName}/accounts` + query({ q, offset, limit: PAGE }),
                               undefined, { signal: controller.signal });
      replace(results, accountTable(listItems(answer), q),
        pager({ offset, limit: PAGE, total: listTotal(answer), shown: listItems(answer).length, noun: ['account', 'accounts'],
                onPage: (next) => { offset = next; remember(); reload(); } }));
    } catch (err) {
      if (!isAbort(err) && !err.sessionEnded) replace(results, errorNotice(err));
    } finally {
      if (inFlight === controller) results.removeAttribute('aria-busy');
    }
  };
  const remember = () => ctx.setSearch({ q, offset: offset || '' });
  const searchNow = () => {
    if (input.value.trim() === q) return;
    q = input.value.trim();
    offset = 0;
    remember();
    reload();
  };
  input.addEventListener('input', debounce(searchNow, SEARCH_DELAY_MS));
  const searchForm = h('form', { class: 'search-form', role: 'search',
                                 on: { submit: (event) => { event.preventDefault(); searchNow(); } } }, search);
  reload();
  return { node: section('Accounts', searchForm, results), reload };
}

function accountTable(items, q) {
  return table([
    { label: 'Account', class: 'primary', cell: (a) => h('a', { href: href.account(a.address), text: a.address }) },
    { label: 'Real name', cell: (a) => a.real_name || '' },
    { label: 'Quota', class: 'num', cell: (a) => quota(a.quota) },
    { label: 'Used', class: 'num', cell: (a) => bytes(a.used) },
    { label: 'Messages', class: 'num', cell: (a) => count(a.messages) },
  ], items, { empty: q ? `No account name starts with “${q}”.` : 'No account yet.', caption: 'Accounts' });
}

function createAccountSection(domainName, onCreated) {
  const node = form({
    submitLabel: 'Create account',
    onSubmit: async (values) => {
      const body = { name: values.name, password: values.password };
      if (values.quota) body.quota = values.quota;
      const answer = await api('POST', path`/api/domains/${domainName}/accounts`, body);
      const address = answer?.address || `${values.name}@${domainName}`;
      node.reset();
      onCreated();
      return h('span', {}, `Account ${address} created. `, h('a', { href: href.account(address), text: `Open ${address}` }));
    },
  },
  h('div', { class: 'field-row' },
    field({ label: 'Account name', name: 'name', required: true, autocomplete: 'off', autocapitalize: 'none',
            spellcheck: 'false', maxlength: 128, hint: `The part before @${domainName}.` }),
    field({ label: 'Quota (optional)', name: 'quota', placeholder: 'none', autocomplete: 'off',
            hint: 'Such as 500M or 2G; empty for none.' })),
  h('div', { class: 'field-row' },
    field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'new-password' }),
    field({ label: 'Password again', name: 'password2', type: 'password', required: true, autocomplete: 'new-password' })));
  matchPasswords(node);
  return section('New account', node);
}

async function unifiedAccount(body, ctx, domainPath) {
  const d = await ctx.get(domainPath);
  replace(body, form({
    submitLabel: 'Save unified account',
    class: 'inline-form',
    onSubmit: async (values) => {
      await api('PATCH', domainPath, { unified_account: values.unified_account });
      return values.unified_account ? `Unified account set to ${values.unified_account}.` : 'This domain has no unified account now.';
    },
  }, field({ label: 'Unified account', name: 'unified_account', value: d.unified_account || '',
             placeholder: 'none', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' })));
}

async function domainAliases(body, ctx, domainPath, refresh) {
  const d = await ctx.get(domainPath);
  replace(body,
    nameList(d.aliases || [], { noun: 'domain alias', empty: 'No alias.',
      remove: async (alias) => { await api('DELETE', `${domainPath}/aliases/${encodeURIComponent(alias)}`); refresh(); } }),
    form({ submitLabel: 'Add alias', class: 'inline-form', onSubmit: async (values) => {
      await api('POST', `${domainPath}/aliases`, { alias: values.alias });
      refresh();
    } }, field({ label: 'New domain alias', name: 'alias', required: true, placeholder: 'example.net',
                 autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' })));
}

async function boundAddresses(body, ctx, domainPath, refresh) {
  const d = await ctx.get(domainPath);
  const remove = ctx.isServerAdmin
    ? async (address) => { await api('DELETE', `${domainPath}/bound/${encodeURIComponent(address)}`); refresh(); }
    : null;
  replace(body,
    nameList(d.bound || [], { noun: 'bound address', empty: 'No bound address.', remove }),
    ctx.isServerAdmin ? form({ submitLabel: 'Bind address', class: 'inline-form', onSubmit: async (values) => {
      await api('POST', `${domainPath}/bound`, { address: values.address });
      refresh();
    } }, field({ label: 'Local IP address', name: 'address', required: true, placeholder: '192.0.2.10',
                 autocomplete: 'off', spellcheck: 'false' })) : null);
}

async function domainPolicies(body, ctx, domainPath) {
  const d = await ctx.get(domainPath);
  replace(body, policyForm({
    policies: d.policies || {},
    level: 'domain',
    save: async (changes) => (await api('PATCH', domainPath, { policies: changes })).policies,
  }));
}

function deleteSection(name) {
  const problem = h('div');
  return section('Delete this domain', problem,
    h('p', { class: 'intro', text: 'A domain can be deleted once it has no accounts; its aliases and bound addresses go with it.' }),
    actionButton(`Delete ${name}`, async () => {
      if (!await confirmAction(`Delete the domain ${name}?`, 'Delete domain')) return;
      await api('DELETE', path`/api/domains/${name}`);
      location.hash = href.domains();
    }, { danger: true, onError: (err) => replace(problem, errorNotice(err)) }));
}
