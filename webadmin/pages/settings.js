// #/settings (server admin) - the server's policies (GET/PATCH /api/server)
// and the module settings (GET/PATCH /api/settings), which take effect
// at once.

import { append, h, replace } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { field, form } from '../lib/forms.js';
import { policyForm } from '../lib/policies.js';
import { panel } from '../lib/widgets.js';

const groups = {
  pop: 'POP',
  lmtp: 'LMTP',
  relay: 'Relay: XTND XMIT and the queue',
  retrieval: 'POP3 retrievals',
  log: 'Log',
  tls: 'TLS',
};

const choices = {
  'log.level': ['error', 'warning', 'notice', 'info', 'debug'],
  'relay.starttls': ['required', 'opportunistic', 'off'],
  'relay.xmit': ['yes', 'no'],
  'retrieval.login_trigger': ['yes', 'no'],
};

const hints = {
  'pop.listen': 'IPv4:port, [IPv6]:port or *:port, comma separated.',
  'pop.tls_listen': 'Addresses for implicit TLS (POP3S); needs tls.cert. Empty: none.',
  'pop.channels': 'Concurrent POP sessions; 0 closes the listener.',
  'pop.channels_per_ip': 'Concurrent sessions from one client address; 0: no limit.',
  'pop.idle_timeout': 'Such as 10m; from 1s to 1d.',
  'pop.max_bad_commands': 'Bad commands before the connection is closed.',
  'pop.max_auth_failures': 'Failed logins in one session before it is closed.',
  'lmtp.listen': 'TCP addresses and UNIX socket paths (starting with /).',
  'lmtp.channels': 'Concurrent LMTP sessions; 0 closes the listener.',
  'lmtp.idle_timeout': 'Such as 5m; from 1s to 1d.',
  'lmtp.max_message_size': 'Such as 50M; from 1k to 2G.',
  'lmtp.max_recipients': 'Recipients per transaction, 100 to 100000.',
  'relay.smarthost': 'host:port to send remote mail to; empty: remote mail waits.',
  'relay.retry_schedule': 'Waits between attempts, comma separated; the last repeats.',
  'relay.max_queue_time': 'How long a recipient may stay deferred before it bounces, such as 5d.',
  'relay.max_message_size': 'The largest submission, such as 50M.',
  'relay.max_recipients': 'Recipients per submission, at most 1000.',
  'relay.max_messages_per_hour': 'Submissions per account and hour, over all its sessions; 0: no limit.',
  'retrieval.max_parallel': 'Remote accounts fetched at once, 1 to 256.',
  'retrieval.timeout': 'For the connection and each reply of a remote server, such as 60s.',
  'retrieval.ca_file': 'Absolute path of CA certificates (PEM) to check remote servers with; empty: the system\'s.',
  'retrieval.max_message_size': 'Larger messages stay on the remote server, such as 50M.',
  'retrieval.backoff_max': 'The longest wait after failures in a row, such as 6h.',
  'retrieval.login_trigger_gap': 'A login starts its account\'s fetches unless they started within this long, such as 60s.',
  'tls.cert': 'Absolute path of the default certificate (PEM).',
  'tls.key': 'Absolute path of its private key; empty: the key is in the cert file.',
};

export function render(view, ctx) {
  append(view, h('h1', { text: 'Settings' }),
    panel('Server policies', async (body) => {
      const answer = await ctx.get('/api/server');
      replace(body, policyForm({
        policies: answer.policies || {},
        level: 'server',
        save: async (changes) => (await api('PATCH', '/api/server', { policies: changes })).policies,
      }));
    }, { intro: 'For every domain and account, unless a domain or an account sets its own.' }).node,
    panel('Module settings', async (body) => replace(body, settingsForm(await ctx.get('/api/settings'))),
      { intro: 'Saved into settings.conf in the data directory, over postern.conf; they take effect at once, as with a reload.' }).node);
}

function settingsForm(answer) {
  const initial = new Map();
  const fieldsets = groupKeys(Object.keys(answer.settings || {})).map(([group, keys]) =>
    h('fieldset', { class: 'settings-group' }, h('legend', { text: groups[group] || group }),
      h('div', { class: 'settings-grid' }, keys.map((key) => settingField(key, answer.settings[key], initial)))));

  const node = form({ submitLabel: 'Save settings', class: 'settings-form', onSubmit: async (values) => {
    const changes = {};
    for (const [key, before] of initial) if (values[key] !== before) changes[key] = values[key];
    if (Object.keys(changes).length === 0) return 'Nothing changed.';
    const saved = await api('PATCH', '/api/settings', changes);
    for (const [key, setting] of Object.entries(saved?.settings || {})) {
      if (!initial.has(key)) continue;
      initial.set(key, String(setting.value));
      node.elements.namedItem(key).value = String(setting.value);
    }
    return `Saved and in force: ${Object.keys(changes).join(', ')}.`;
  } }, fieldsets);
  return node;
}

function settingField(key, setting, initial) {
  const value = String(setting?.value ?? '');
  initial.set(key, value);
  const options = choices[key];
  return field({ label: key, name: key, value, hint: hints[key],
                 type: options ? 'select' : 'text',
                 options: options && (options.includes(value) ? options : [value, ...options]),
                 autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
}

/** [[group, [keys...]], ...] in the order of `groups`, unknown groups last. */
function groupKeys(keys) {
  const byGroup = new Map(Object.keys(groups).map((g) => [g, []]));
  for (const key of keys) {
    const group = key.split('.')[0];
    if (!byGroup.has(group)) byGroup.set(group, []);
    byGroup.get(group).push(key);
  }
  return [...byGroup].filter(([, list]) => list.length > 0);
}
