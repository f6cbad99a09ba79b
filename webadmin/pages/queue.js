// #/queue (server admin) - the relay queue: list, one entry's recipients,
// retry, flush all, delete (after a confirmation; no bounce is sent).

import { append, h, replace } from '../lib/dom.js';
import { api, listItems, listTotal, path, query } from '../lib/api.js';
import { bytes, relative, time } from '../lib/format.js';
import { actionButton, confirmAction, errorNotice, notice, pager, panel, section, statusLine, table } from '../lib/widgets.js';

const PAGE = 100;

export function render(view, ctx) {
  let offset = Number(ctx.search.get('offset')) || 0;
  const details = h('div');
  const message = statusLine();
  const list = panel('Queued messages', async (body, refresh) => {
    const answer = await ctx.get(`/api/queue${query({ offset, limit: PAGE })}`);
    const items = listItems(answer);
    replace(body, queueTable(items, { ctx, refresh, details, message }),
      pager({ offset, limit: PAGE, total: listTotal(answer), shown: items.length,
        noun: ['entry', 'entries'], onPage: (next) => { offset = next; ctx.setSearch({ offset }); refresh(); } }));
  });
  const flush = actionButton('Retry all now', async () => {
    const answer = await api('POST', '/api/queue/flush');
    const n = answer?.retried ?? 0;
    message.textContent = n === 1 ? '1 queue entry will be retried now.' : `${n} queue entries will be retried now.`;
    list.refresh();
  }, { onError: (err) => replace(message, errorNotice(err)) });
  append(view, h('h1', { text: 'Queue' }),
    h('div', { class: 'toolbar' }, flush, message),
    list.node, details);
}

function queueTable(items, { ctx, refresh, details, message }) {
  const problem = h('div');
  const onError = (err) => replace(problem, errorNotice(err));
  return h('div', {}, problem, table([
    { label: 'Id', cell: (e) => String(e.id) },
    { label: 'Created', cell: (e) => h('span', { title: time(e.created), text: relative(e.created) }) },
    { label: 'Sender', cell: (e) => e.sender || '<>' },
    { label: 'Size', class: 'num', cell: (e) => bytes(e.size) },
    { label: 'Pending', class: 'num', cell: (e) => `${e.pending}/${e.total}` },
    { label: 'Next attempt', cell: (e) => (e.pending > 0 ? nextAttempt(e.next_attempt) : '–') },
    { label: 'Last error', class: 'wrap', cell: (e) => e.last_error || '–' },
    { label: 'Actions', class: 'actions-cell', cell: (e) => [
      actionButton(`Show ${e.id}`, () => showEntry(ctx, e.id, details), { onError }),
      actionButton(`Retry ${e.id}`, async () => {
        await api('POST', path`/api/queue/${e.id}/retry`);
        message.textContent = `Queue entry ${e.id} will be retried now.`;
        refresh();
      }, { onError, title: e.pending > 0 ? null : 'No recipient is pending' }),
      actionButton(`Delete ${e.id}`, async () => {
        if (!await confirmAction(`Delete queue entry ${e.id} from ${e.sender || '<>'}? `
          + `Its ${e.pending} pending recipient(s) get nothing, and the sender no bounce.`, 'Delete entry')) return;
        await api('DELETE', path`/api/queue/${e.id}`);
        message.textContent = `Queue entry ${e.id} deleted.`;
        replace(details);
        refresh();
      }, { danger: true, onError })] },
  ], items, { empty: 'The queue is empty.', caption: 'Queue' }));
}

async function showEntry(ctx, id, details) {
  const entry = await ctx.get(path`/api/queue/${id}`);
  const { recipients, ...fields } = entry || {};
  replace(details, section(`Queue entry ${id}`,
    h('dl', { class: 'facts' }, Object.entries(fields).map(([key, value]) =>
      [h('dt', { text: key.replace(/_/g, ' ') }), h('dd', { text: shown(key, value) })])),
    h('h3', { text: 'Recipients' }),
    Array.isArray(recipients) ? recipientTable(recipients) : notice('The server listed no recipients.')));
  details.scrollIntoView({ block: 'start' });
}

function recipientTable(recipients) {
  const keys = [...new Set(recipients.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])))];
  if (keys.length === 0) return table([{ label: 'Recipient', cell: (r) => plain(r) }], recipients);
  return table(keys.map((key) => ({ label: key.replace(/_/g, ' '), class: key === 'reply' ? 'wrap' : null,
                                    cell: (r) => shown(key, r[key]) })), recipients, { caption: 'Recipients' });
}

/** A queue field as people read it: times in local time, sizes in units. */
function shown(key, value) {
  if (value !== null && value !== undefined && timeFields.has(key)) return time(value);
  if (key === 'size' && Number.isFinite(value)) return `${bytes(value)} (${value} octets)`;
  return plain(value);
}

const timeFields = new Set(['created', 'next_attempt', 'last_attempt']);

/** "in 4m", or "now" for an attempt that is due (its time has passed). */
function nextAttempt(value) {
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) && ms <= Date.now() ? 'now' : relative(value);
}

function plain(value) {
  if (value === null || value === undefined || value === '') return '–';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
