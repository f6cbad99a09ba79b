// The policy editor of the server, domain and account pages
// (doc/policies.md): each policy with the value in force and the level it
// comes from, and this level's own setting, which may be left empty to
// inherit.

import { h } from './dom.js';
import { field, form } from './forms.js';

const known = {
  pop: { label: 'POP logins', values: ['yes', 'no'] },
  xmit: { label: 'Sending with XTND XMIT', values: ['yes', 'no'] },
  lmtp: { label: 'Delivery over LMTP', values: ['yes', 'no'] },
  retrieval: { label: 'Fetching from remote POP servers', values: ['yes', 'no'] },
  pop_from: { label: 'Which mail POP shows', values: ['all', 'enable-time'] },
  pop_delete: { label: 'What DELE does at QUIT', suggest: ['delete', 'hide', 'mark-read', 'archive:Archive'],
                hint: 'delete, hide, mark-read or archive:MAILBOX' },
  pop_login_delay: { label: 'Shortest time between two POP logins', suggest: ['0', '60', '15m', '1h'],
                     hint: 'seconds (900) or with a unit (15m)' },
  pop_expire: { label: 'How long retrieved mail is kept', suggest: ['never', '30', '90'], hint: 'days, or never' },
};

const levelNames = { server: 'the server', domain: 'this domain', account: 'this account' };

/**
 * policyForm({policies, level, save}): level is 'server', 'domain' or
 * 'account'; save(changes) sends {name: value} (value '' inherits) and
 * resolves to the policies as the server now has them.
 */
export function policyForm({ policies, level, save }) {
  const rows = new Map();
  const fields = Object.keys(policies).map((name) => {
    const row = policyField(name, level);
    rows.set(name, row);
    return row.node;
  });
  const apply = (current) => {
    for (const [name, row] of rows) if (current[name]) row.show(current[name], level);
  };
  apply(policies);

  return form({
    submitLabel: 'Save policies',
    class: 'policy-form',
    onSubmit: async () => {
      const changes = {};
      for (const [name, row] of rows) if (row.changed()) changes[name] = row.control.value.trim();
      if (Object.keys(changes).length === 0) return 'Nothing changed.';
      apply(await save(changes));
      return 'Policies saved.';
    },
  },
  h('p', { class: 'intro', text: `Leave a policy empty to ${level === 'server' ? 'use the default' : 'inherit it'}. `
       + 'A service (pop, xmit, lmtp, retrieval) works only where the server, the domain and the account all allow it.' }),
  h('div', { class: 'policy-grid' }, fields));
}

function policyField(name, level) {
  const info = known[name] || {};
  const inherit = level === 'server' ? '(default)' : '(inherit)';
  const listId = info.suggest ? `policy-${name}-${level}-values` : null;
  const wrapper = info.values
    ? field({ label: labelText(name, info), name: `policies.${name}`, type: 'select',
              options: [{ value: '', label: inherit }, ...info.values] })
    : field({ label: labelText(name, info), name: `policies.${name}`, placeholder: inherit,
              list: listId, autocomplete: 'off', spellcheck: 'false' });
  const control = wrapper.querySelector('select, input');
  const inForce = h('p', { class: 'in-force' });
  control.after(inForce);
  if (listId) wrapper.append(h('datalist', { id: listId }, info.suggest.map((v) => h('option', { value: v }))));
  if (info.hint) wrapper.insertBefore(h('p', { class: 'hint', text: info.hint }), wrapper.querySelector('.field-error'));

  let initial = '';
  return {
    node: wrapper,
    control,
    changed: () => control.value.trim() !== initial,
    show(policy) {
      // what this level sets itself, even where a higher level's "no" wins
      if ('set' in policy) initial = policy.set === null ? '' : String(policy.set);
      else initial = policy.from === level ? String(policy.value) : '';
      control.value = initial;
      inForce.replaceChildren('In force: ', h('strong', { text: String(policy.value) }),
        ` (from ${policy.from === level ? levelNames[level] : policy.from})`);
    },
  };
}

function labelText(name, info) {
  return info.label ? `${name}: ${info.label}` : name;
}
