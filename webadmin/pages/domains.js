// #/domains - the domains (a domain admin: theirs), create and delete
// (server admin).

import { append, h, replace } from '../lib/dom.js';
import { api, listItems, listTotal, path, query } from '../lib/api.js';
import { count } from '../lib/format.js';
import { field, form } from '../lib/forms.js';
import { href } from '../lib/links.js';
import { actionButton, confirmAction, errorNotice, pager, panel, section, table } from '../lib/widgets.js';

const PAGE = 100;

export function render(view, ctx) {
  let offset = Number(ctx.search.get('offset')) || 0;
  const list = panel('Domains', async (body, refresh) => {
    const answer = await ctx.get(`/api/domains${query({ offset, limit: PAGE })}`);
    const items = listItems(answer);
    const total = listTotal(answer);
    const problem = h('div');
    replace(body, problem, domainTable(items, ctx, problem, refresh),
      pager({ offset, limit: PAGE, total, shown: items.length, noun: ['domain', 'domains'],
        onPage: (next) => { offset = next; ctx.setSearch({ offset }); refresh(); } }));
  });
  append(view, h('h1', { text: 'Domains' }), ctx.isServerAdmin ? createForm(list.refresh) : null, list.node);
}

function domainTable(items, ctx, problem, refresh) {
  const columns = [
    { label: 'Domain', class: 'primary', cell: (d) => h('a', { href: href.domain(d.name), text: d.name }) },
    { label: 'Accounts', class: 'num', cell: (d) => count(d.accounts) },
  ];
  if (ctx.isServerAdmin) {
    columns.push({ label: 'Actions', class: 'actions-cell', cell: (d) => actionButton(`Delete ${d.name}`, async () => {
      if (!await confirmAction(`Delete the domain ${d.name}? Its aliases and bound addresses go with it.`, 'Delete domain')) return;
      await api('DELETE', path`/api/domains/${d.name}`);
      refresh();
    }, { danger: true, onError: (err) => replace(problem, errorNotice(err)) }) });
  }
  return table(columns, items, { empty: 'No domain yet.', caption: 'Domains' });
}

function createForm(onCreated) {
  const node = form({
    submitLabel: 'Create domain',
    class: 'inline-form',
    onSubmit: async (values) => {
      const answer = await api('POST', '/api/domains', { name: values.name });
      const name = answer?.name || values.name;
      node.reset();
      onCreated();
      return h('span', {}, `Domain ${name} created. `, h('a', { href: href.domain(name), text: `Open ${name}` }));
    },
  }, field({ label: 'Domain name', name: 'name', required: true, placeholder: 'example.com',
             autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 128 }));
  return section('New domain', node);
}
