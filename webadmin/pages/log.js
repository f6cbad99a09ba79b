// #/log (server admin) - the end of the log file, filtered by tag and
// level; "follow" asks every 2 s for what was written since the last
// answer's offset and appends it.  Lines are text, never markup.

import { append, h, replace } from '../lib/dom.js';
import { query } from '../lib/api.js';
import { field, form } from '../lib/forms.js';
import { errorNotice, statusLine } from '../lib/widgets.js';

const FOLLOW_MS = 2000;
const MAX_LINES = 5000; // the page stays quick however long it follows
const LEVELS = ['error', 'warning', 'notice', 'info', 'debug'];
const levelPattern = new RegExp(`\\b(${LEVELS.join('|')})\\b`);

export function render(view, ctx) {
  const state = { tag: ctx.search.get('tag') || '', level: ctx.search.get('level') || '',
                  lines: ctx.search.get('lines') || '200', offset: null, generation: 0 };
  const output = h('div', { class: 'log-output', role: 'log', 'aria-label': 'Log lines', tabindex: '0' });
  const status = statusLine();
  const problem = h('div');
  let stopFollowing = null;

  const load = async () => {
    const generation = ++state.generation;
    const answer = await ctx.get(`/api/log${query({ lines: state.lines, tag: state.tag, level: state.level })}`);
    if (generation !== state.generation) return;
    replace(problem);
    replace(output, (answer.lines || []).map(lineNode));
    state.offset = answer.offset;
    output.scrollTop = output.scrollHeight;
    status.textContent = `${(answer.lines || []).length} lines, read ${new Date().toLocaleTimeString()}.`;
  };
  const poll = async () => {
    if (state.offset === null || state.offset === undefined) return load();
    const generation = state.generation;
    const answer = await ctx.get(`/api/log${query({ after: state.offset, tag: state.tag, level: state.level })}`);
    if (generation !== state.generation) return;
    replace(problem);
    appendLines(output, answer.lines || []);
    state.offset = answer.offset;
    status.textContent = `Following: checked ${new Date().toLocaleTimeString()}.`;
  };
  const guarded = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      if (err.name === 'AbortError' || err.sessionEnded) throw err;
      replace(problem, errorNotice(err));
    }
  };

  const follow = h('input', { type: 'checkbox', id: 'log-follow', name: 'follow' });
  follow.addEventListener('change', () => {
    stopFollowing?.();
    stopFollowing = follow.checked ? ctx.every(FOLLOW_MS, guarded(poll)) : null;
    status.textContent = follow.checked ? `Following: new lines appear every ${FOLLOW_MS / 1000} s.` : 'Stopped following.';
  });

  append(view, h('h1', { text: 'Log' }),
    h('section', { class: 'card' },
      filterForm(state, async () => { ctx.setSearch({ tag: state.tag, level: state.level, lines: state.lines }); await load(); }),
      h('div', { class: 'follow' }, follow, h('label', { for: 'log-follow', text: `Follow new lines (every ${FOLLOW_MS / 1000} s)` })),
      problem, output, status));
  return guarded(load)();
}

function filterForm(state, apply) {
  return form({ submitLabel: 'Show lines', class: 'inline-form log-filters', onSubmit: async (values) => {
    Object.assign(state, { tag: values.tag, level: values.level, lines: values.lines });
    await apply();
  } },
  field({ label: 'Tag starts with', name: 'tag', value: state.tag, placeholder: 'POP, SMTP, LMTP…', autocomplete: 'off',
          autocapitalize: 'characters', spellcheck: 'false' }),
  field({ label: 'Level and more severe', name: 'level', type: 'select', value: state.level,
          options: [{ value: '', label: 'every level' }, ...LEVELS] }),
  field({ label: 'Lines', name: 'lines', type: 'select', value: state.lines, options: ['100', '200', '500', '1000'] }));
}

function lineNode(text) {
  const level = levelPattern.exec(text.slice(0, 60));
  return h('div', { class: ['log-line', level && `level-${level[1]}`], text });
}

/** Appends lines, keeping the view at the bottom when it was there, and at most MAX_LINES. */
function appendLines(output, lines) {
  if (lines.length === 0) return;
  const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 40;
  output.append(...lines.map(lineNode));
  while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
  if (atBottom) output.scrollTop = output.scrollHeight;
}
