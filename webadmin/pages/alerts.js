// #/alerts - every alert this admin may see, and posting server or
// domain alerts.  alertList and alertForm serve the account page too.
// Alert texts are shown as text, whatever they hold.

import { append, h, replace } from '../lib/dom.js';
import { api, listItems, listTotal, query } from '../lib/api.js';
import { time } from '../lib/format.js';
import { field, form } from '../lib/forms.js';
import { href } from '../lib/links.js';
import { actionButton, confirmAction, errorNotice, pager, panel, section, table } from '../lib/widgets.js';

const PAGE = 100;

export function render(view, ctx) {
  let offset = Number(ctx.search.get('offset')) || 0;
  const list = panel('Waiting alerts', async (body, refresh) => {
    const answer = await ctx.get(`/api/alerts${query({ offset, limit: PAGE })}`);
    replace(body, alertList(answer, { onChange: refresh, showTarget: true }),
      pager({ offset, limit: PAGE, total: listTotal(answer), shown: listItems(answer).length,
        noun: ['alert', 'alerts'], onPage: (next) => { offset = next; ctx.setSearch({ offset }); refresh(); } }));
  }, { intro: 'Server and domain alerts stay until deleted and are shown once to each account; an account\'s own alert goes once shown.' });
  append(view, h('h1', { text: 'Alerts' }),
    section('Post an alert', scopedAlertForm(ctx, list.refresh)),
    list.node);
}

/** The alerts of a list answer as a table, each with a delete button. */
export function alertList(answer, { onChange, showTarget }) {
  const problem = h('div');
  const columns = [
    { label: 'Posted', cell: (a) => time(a.posted) },
    { label: 'For', cell: (a) => target(a), hidden: !showTarget },
    { label: 'Text', class: 'alert-text', cell: (a) => a.text },
    { label: 'Actions', class: 'actions-cell', cell: (a) => actionButton(`Delete alert ${a.id}`, async () => {
      if (!await confirmAction(`Delete the alert “${a.text}”?`, 'Delete alert')) return;
      await api('DELETE', `/api/alerts/${encodeURIComponent(a.id)}`);
      onChange();
    }, { danger: true, onError: (err) => replace(problem, errorNotice(err)) }) },
  ].filter((c) => !c.hidden);
  return h('div', {}, problem, table(columns, listItems(answer), { empty: 'No alert is waiting.', caption: 'Alerts' }));
}

function target(a) {
  if (a.scope === 'account' && a.account) return h('a', { href: href.account(a.account), text: a.account });
  if (a.scope === 'domain' && a.domain) return h('a', { href: href.domain(a.domain), text: `every account of ${a.domain}` });
  return 'every account';
}

/** A form posting an alert for one account. */
export function alertForm({ account, onPosted }) {
  const node = form({ submitLabel: 'Post alert', onSubmit: async (values) => {
    await api('POST', '/api/alerts', { text: values.text, account });
    node.reset();
    onPosted();
    return 'Alert posted: it answers the next POP login.';
  } }, textField());
  return node;
}

function textField() {
  return field({ label: 'Alert text', name: 'text', required: true, maxlength: 400, autocomplete: 'off',
                 hint: 'One line, at most 400 octets; shown to the user by their mail program.' });
}

function scopedAlertForm(ctx, onPosted) {
  const scopes = ctx.isServerAdmin ? [{ value: 'server', label: 'every account of the server' }] : [];
  scopes.push({ value: 'domain', label: 'every account of a domain' });
  const listId = 'alert-domains';
  const domainField = field({ label: 'Domain', name: 'domain', required: true, list: listId, autocomplete: 'off',
                              autocapitalize: 'none', spellcheck: 'false', value: ctx.session.domains[0] || '' });
  domainField.append(h('datalist', { id: listId }, ctx.session.domains.map((d) => h('option', { value: d }))));
  const scopeField = field({ label: 'For', name: 'scope', type: 'select', options: scopes });
  const scope = scopeField.querySelector('select');
  const showDomain = () => {
    domainField.hidden = scope.value !== 'domain';
    domainField.querySelector('input').disabled = domainField.hidden;
  };
  scope.addEventListener('change', showDomain);
  showDomain();

  const node = form({ submitLabel: 'Post alert', onSubmit: async (values) => {
    const body = { text: values.text };
    if (values.scope === 'domain') body.domain = values.domain;
    await api('POST', '/api/alerts', body);
    node.querySelector('input[name=text]').value = '';
    onPosted();
    return values.scope === 'domain' ? `Alert posted for every account of ${values.domain}.` : 'Alert posted for every account.';
  } }, h('div', { class: 'field-row' }, scopeField, domainField), textField());
  return node;
}
