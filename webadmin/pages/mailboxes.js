// The mailboxes of an account page: list, create, rename, delete, one
// mailbox's messages (paged; expire now), and its access rights (ACL:
// list, set, remove).

import { h, replace } from '../lib/dom.js';
import { api, listItems, listTotal, path, query } from '../lib/api.js';
import { bytes, count } from '../lib/format.js';
import { field, form } from '../lib/forms.js';
import { actionButton, confirmAction, errorNotice, notice, pager, panel, table } from '../lib/widgets.js';

const MESSAGE_PAGE = 50;

const rightsLegend = [
  ['l', 'lookup: see the mailbox'], ['r', 'read: open it (POP needs this)'], ['s', 'keep Seen'],
  ['w', 'write other flags'], ['i', 'insert messages'], ['p', 'post (Direct Mailbox Addressing)'],
  ['c', 'create sub-mailboxes'], ['d', 'delete messages (DELE)'], ['a', 'administer the ACL'],
];

/** The three cards: the mailboxes, and the messages and access rights of the one chosen (INBOX first). */
export function mailboxSections(ctx, address) {
  const accountPath = path`/api/accounts/${address}`;
  let chosen = 'INBOX';
  let offset = 0;
  const flash = { text: '' }; // what "Expire now" did, shown above the list it refreshed
  const messages = panel('Messages', (body, refresh) => messagesBody(body, ctx, accountPath, chosen,
    { offset, onPage: (next) => { offset = next; refresh(); }, refresh, flash }));
  const rights = panel('Access rights', (body, refresh) => aclBody(body, ctx, accountPath, address, chosen, refresh));
  const show = (name, card) => {
    chosen = name;
    offset = 0;
    messages.refresh();
    rights.refresh();
    card.node.scrollIntoView({ block: 'start' });
  };
  const mailboxes = panel('Mailboxes', async (body, refresh) => {
    const names = await mailboxBody(body, ctx, accountPath, {
      choose: (name) => show(name, rights), browse: (name) => show(name, messages), refresh });
    if (!names.includes(chosen)) {
      chosen = 'INBOX';
      offset = 0;
      messages.refresh();
      rights.refresh();
    }
  });
  return [mailboxes.node, messages.node, rights.node];
}

async function messagesBody(body, ctx, accountPath, mailbox, { offset, onPage, refresh, flash }) {
  const boxPath = `${accountPath}/mailboxes/${encodeURIComponent(mailbox)}`;
  const answer = await ctx.get(`${boxPath}/messages${query({ offset, limit: MESSAGE_PAGE })}`);
  const items = listItems(answer);
  const problem = h('div', {}, flash.text ? notice(flash.text, 'ok') : null);
  flash.text = '';
  const state = (m) => [m.seen ? 'retrieved' : 'new', m.hidden ? 'deleted over POP (hidden)' : null]
    .filter(Boolean).join(', ');
  replace(body,
    h('p', { class: 'acl-mailbox' }, 'Messages in ', h('strong', { text: mailbox }),
      '. Choose another with its “Messages” button above.'),
    problem,
    table([
      { label: 'UID', class: 'num', cell: (m) => String(m.uid) },
      { label: 'Size', class: 'num', cell: (m) => bytes(m.size) },
      { label: 'State', cell: (m) => state(m) },
      { label: 'UIDL', class: 'primary', cell: (m) => h('code', { text: m.uidl }) },
    ], items, { empty: 'No message.', caption: `Messages in ${mailbox}` }),
    pager({ offset, limit: MESSAGE_PAGE, total: listTotal(answer), shown: items.length,
            noun: ['message', 'messages'], onPage }),
    h('div', { class: 'actions' }, actionButton('Expire now', async () => {
      const result = await api('POST', `${accountPath}/expire`);
      flash.text = result.days === null
        ? 'This account keeps mail for ever (pop_expire = never): nothing was removed.'
        : `${count(result.removed)} retrieved message(s) older than ${result.days} days removed.`;
      refresh();
    }, { title: 'Remove the retrieved mail older than the pop_expire policy allows, from every mailbox of the account',
         onError: (err) => replace(problem, errorNotice(err)) })));
}

async function mailboxBody(body, ctx, accountPath, { choose, browse, refresh }) {
  const answer = await ctx.get(`${accountPath}/mailboxes?limit=500`);
  const items = listItems(answer);
  const names = items.map((m) => m.name);
  const problem = h('div');
  const boxPath = (name) => `${accountPath}/mailboxes/${encodeURIComponent(name)}`;
  replace(body, problem,
    table([
      { label: 'Mailbox', class: 'primary', cell: (m) => m.name },
      { label: 'Messages', class: 'num', cell: (m) => count(m.messages) },
      { label: 'Size', class: 'num', cell: (m) => bytes(m.size) },
      { label: 'Actions', class: 'actions-cell', cell: (m) => [
        h('button', { type: 'button', text: `Messages of ${m.name}`, on: { click: () => browse(m.name) } }),
        h('button', { type: 'button', text: `Access rights of ${m.name}`, on: { click: () => choose(m.name) } }),
        m.name === 'INBOX' ? null : actionButton(`Delete ${m.name}`, async () => {
          if (!await confirmAction(`Delete the mailbox ${m.name} and its messages? Its sub-mailboxes stay.`, 'Delete mailbox')) return;
          await api('DELETE', boxPath(m.name));
          refresh();
        }, { danger: true, onError: (err) => replace(problem, errorNotice(err)) })] },
    ], items, { caption: 'Mailboxes' }),
    listTotal(answer) > items.length ? notice(`Showing the first ${items.length} of ${count(listTotal(answer))} mailboxes.`) : null,
    h('div', { class: 'form-pair' },
      createMailboxForm(accountPath, refresh),
      names.length > 1 ? renameMailboxForm(names, boxPath, refresh) : null));
  return names;
}

function createMailboxForm(accountPath, refresh) {
  return form({ submitLabel: 'Create mailbox', class: 'inline-form', onSubmit: async (values) => {
    await api('POST', `${accountPath}/mailboxes`, { name: values.name });
    refresh();
  } }, field({ label: 'New mailbox', name: 'name', required: true, placeholder: 'lists/info', autocomplete: 'off',
               spellcheck: 'false', maxlength: 255, hint: '/ separates levels; the levels above need not exist.' }));
}

function renameMailboxForm(names, boxPath, refresh) {
  const others = names.filter((n) => n !== 'INBOX');
  return form({ submitLabel: 'Rename mailbox', class: 'inline-form', onSubmit: async (values) => {
    await api('PATCH', boxPath(values.from), { name: values.name });
    refresh();
  } },
  field({ label: 'Mailbox to rename', name: 'from', type: 'select', options: others }),
  field({ label: 'New name', name: 'name', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 255,
          hint: 'Its sub-mailboxes are renamed with it.' }));
}

async function aclBody(body, ctx, accountPath, owner, mailbox, refresh) {
  const aclPath = `${accountPath}/mailboxes/${encodeURIComponent(mailbox)}/acl`;
  const entries = listItems(await ctx.get(aclPath));
  const isOwner = (e, i) => i === 0 && e.identifier.toLowerCase() === owner.toLowerCase();
  const problem = h('div');
  replace(body,
    h('p', { class: 'acl-mailbox' }, 'Rights on the mailbox ', h('strong', { text: mailbox }),
      '. Choose another with its “Access rights” button above.'),
    problem,
    table([
      { label: 'Identifier', class: 'primary', cell: (e) => e.identifier },
      { label: 'Rights', cell: (e) => h('code', { text: e.rights || '(none)' }) },
      { label: 'Actions', class: 'actions-cell', cell: (e) => (isOwner(e, entries.indexOf(e)) ? h('span', { class: 'muted', text: 'owner: every right' })
        : actionButton(`Remove ${e.identifier}`, async () => {
          if (!await confirmAction(`Remove the rights of ${e.identifier} on ${mailbox}?`, 'Remove rights')) return;
          await api('DELETE', `${aclPath}/${encodeURIComponent(e.identifier)}`);
          refresh();
        }, { onError: (err) => replace(problem, errorNotice(err)) })) },
    ], entries, { empty: 'No access right is set.', caption: `Access rights of ${mailbox}` }),
    aclForm(aclPath, refresh),
    legend());
}

function aclForm(aclPath, refresh) {
  return form({ submitLabel: 'Set rights', class: 'inline-form', onSubmit: async (values) => {
    const answer = await api('PUT', `${aclPath}/${encodeURIComponent(values.identifier)}`, { rights: values.rights });
    refresh();
    return answer ? `${answer.identifier}: ${answer.rights}` : null;
  } },
  field({ label: 'Identifier', name: 'identifier', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
          placeholder: 'name@domain', hint: 'An account (name@domain), anyone@domain or anyone.' }),
  field({ label: 'Rights', name: 'rights', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', placeholder: 'lrs',
          hint: 'Letters of lrswipcda; +d adds, -s takes away; empty removes every right.' }));
}

function legend() {
  return h('details', { class: 'legend' }, h('summary', { text: 'What the letters mean' }),
    h('dl', { class: 'facts' }, rightsLegend.map(([letter, meaning]) => [h('dt', {}, h('code', { text: letter })), h('dd', { text: meaning })])));
}
