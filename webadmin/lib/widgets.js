// Pieces the pages share: sections, tables, paging, the delete confirmation.

import { h, replace } from './dom.js';
import { ApiError, isAbort } from './api.js';
import { count } from './format.js';

/** A titled card. */
export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', { text: title }), children);
}

/**
 * A card whose body is (re)built by build(body, refresh); returns {node,
 * refresh}: the page calls refresh() after a change.  A failing build
 * shows its error in the card.
 */
export function panel(title, build, { intro } = {}) {
  const body = h('div', { class: 'panel-body' }, loading());
  const node = section(title, intro ? h('p', { class: 'intro', text: intro }) : null, body);
  const refresh = async () => {
    try {
      await build(body, refresh);
    } catch (err) {
      if (!isAbort(err) && !err.sessionEnded && body.isConnected) replace(body, errorNotice(err));
    }
  };
  refresh();
  return { node, refresh };
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', text });
}

/** An error shown in the page (never an alert box). */
export function errorNotice(err) {
  const text = err instanceof ApiError ? err.message : 'Something went wrong on this page: reload it and try again.';
  if (!(err instanceof ApiError)) console.error(err);
  return h('p', { class: 'notice error', role: 'alert', text });
}

export function notice(text, kind = 'info') {
  return h('p', { class: `notice ${kind}`, text });
}

/**
 * A table: columns are {label, cell(row) -> node or text, class}.  Every
 * cell carries its column's label, which the narrow layout shows beside
 * the value (rows become stacked blocks); the class 'primary' marks the
 * column that names the row, shown there as its title.
 */
export function table(columns, rows, { empty = 'Nothing here yet.', caption } = {}) {
  if (rows.length === 0) return notice(empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      caption ? h('caption', { class: 'visually-hidden', text: caption }) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class, text: c.label })))),
      h('tbody', {}, rows.map((row) => h('tr', {},
        columns.map((c) => h('td', { class: c.class, dataset: { label: c.label } },
          h('div', { class: 'cell' }, c.cell(row)))))))));
}

/**
 * "51–100 of 100,000 accounts" with Previous / Next buttons (none when all
 * fit on one page); onPage(newOffset).  noun: [singular, plural].
 */
export function pager({ offset, limit, total, shown, onPage, noun = ['item', 'items'] }) {
  const [one, many] = noun;
  const last = offset + shown;
  let status = `${count(total)} ${total === 1 ? one : many}`;
  if (total === 0) status = `No ${many}`;
  else if (shown === 0) status = `Nothing on this page; ${status} in all`; // an old address, past the end
  else if (offset > 0 || last < total) status = `${count(offset + 1)}–${count(last)} of ${status}`;
  const label = h('span', { class: 'pager-status', 'aria-live': 'polite', text: status });
  if (offset <= 0 && last >= total) return h('div', { class: 'pager' }, label);
  return h('nav', { class: 'pager', 'aria-label': `Pages of ${many}` },
    h('button', { type: 'button', disabled: offset <= 0, on: { click: () => onPage(Math.max(0, offset - limit)) } }, 'Previous page'),
    label,
    h('button', { type: 'button', disabled: last >= total, on: { click: () => onPage(offset + limit) } }, 'Next page'));
}

/** A button running an async action, disabled while it runs; errors go to onError. */
export function actionButton(label, action, { danger = false, onError, title } = {}) {
  const button = h('button', { type: 'button', class: danger ? 'danger' : null, title, text: label });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      if (!isAbort(err) && !err.sessionEnded && onError) onError(err);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}

/**
 * A list of names (aliases, bound addresses) each with a remove button:
 * remove(name) runs after the confirmation; errors show above the list.
 */
export function nameList(names, { noun, remove, empty }) {
  const problem = h('div');
  const items = names.map((name) => h('li', {},
    h('span', { class: 'name', text: name }),
    remove ? actionButton(`Remove ${name}`, async () => {
      if (await confirmAction(`Remove the ${noun} ${name}?`, `Remove ${noun}`)) await remove(name);
    }, { onError: (err) => replace(problem, errorNotice(err)) }) : null));
  return h('div', {}, problem, names.length ? h('ul', { class: 'name-list' }, items) : notice(empty));
}

/** Asks before a deletion, in the page's own dialog; resolves true to go ahead. */
export function confirmAction(question, confirmLabel = 'Delete') {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-text').textContent = question;
  document.getElementById('confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

/** Calls fn after the input has been quiet for ms. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A line of status text a page updates ("updated 10:04:05"). */
export function statusLine() {
  return h('p', { class: 'status-line', 'aria-live': 'polite' });
}
