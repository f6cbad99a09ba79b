// Browser test of the web admin pages, as an admin uses them.
//
//   POSTERN_URL=http://127.0.0.1:8010 POSTERN_ADMIN=admin@example.com \
//   POSTERN_PASSWORD=S3cret-pass POSTERN_SCREENSHOTS=/tmp/shots node admin.spec.mjs
//
// Runs Debian's Chromium (/usr/bin/chromium, or POSTERN_CHROMIUM) through
// playwright-core; a plain Node script: it prints one line per step and
// "N passed, N failed", and exits 0 only when every step passed.  The
// admin must be a server admin.  It makes a domain pw-<time>.test with one
// account and removes both at the end.  POSTERN_POP=host:port (the server's
// POP listener) adds what a mail user then sees: the alert refusing their
// next login, and the POP channel limit taking effect.  POSTERN_LOG_GROWS=1 also requires
// the log page to show new lines while following (the mock writes some).

import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';

const BASE = requireEnv('POSTERN_URL').replace(/\/+$/, '');
const ADMIN = requireEnv('POSTERN_ADMIN');
const PASSWORD = requireEnv('POSTERN_PASSWORD');
const SHOTS = process.env.POSTERN_SCREENSHOTS || join(import.meta.dirname ?? '.', 'screenshots');
const LOG_GROWS = process.env.POSTERN_LOG_GROWS === '1';
const POP = process.env.POSTERN_POP || '';
// POSTERN_REMOTE=host:port:user:password - a remote POP3 account with
// POSTERN_REMOTE_COUNT messages, for the account page's remote POP3 panel
const REMOTE = process.env.POSTERN_REMOTE || '';
const REMOTE_COUNT = Number(process.env.POSTERN_REMOTE_COUNT || '0');
const STAMP = Date.now().toString(36);
const DOMAIN = `pw-${STAMP}.test`;
const ACCOUNT = `tester@${DOMAIN}`;
const ACCOUNT_PASSWORD = `Tester-${STAMP}-pass`;
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & <b>bold</b>';

const problems = [];   // page errors, CSP violations and console errors seen on the way
let passed = 0;
let failed = 0;
const made = { domain: false, account: false };

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`admin.spec.mjs: set ${name} (POSTERN_URL, POSTERN_ADMIN and POSTERN_PASSWORD are needed)`);
    process.exit(2);
  }
  return value;
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok ${passed + failed} - ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed += 1;
    console.log(`not ok ${passed + failed} - ${name}\n  ${String(err.message || err).split('\n').join('\n  ')}`);
    throw err;
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The card (section) whose heading is title. */
function card(page, title) {
  return page.locator('section.card').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
}

async function go(page, hash) {
  await page.goto(`${BASE}/${hash}`);
  await page.locator('#app').waitFor({ state: 'visible' });
}

function watch(page) {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/Failed to load resource: the server responded with a status of (40[013-9]|409)/.test(msg.text())) return;
    problems.push(`console error: ${msg.text()}`);
  });
  return page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__csp.push(`${e.violatedDirective}: ${e.blockedURI || 'inline'}`));
  });
}

async function noCspViolations(page) {
  const seen = await page.evaluate(() => window.__csp || []);
  check(seen.length === 0, `Content-Security-Policy violations: ${seen.join('; ')}`);
}

// ------------------------------------------------------------------ steps

async function loginSteps(page) {
  await step('without a session the login form is shown', async () => {
    await page.goto(`${BASE}/`);
    await page.locator('#login-form').waitFor({ state: 'visible' });
    check(await page.locator('#app').isHidden(), 'the app shell is visible without a session');
  });
  await step('a wrong password gets the server\'s error on the form, not an alert box', async () => {
    await page.getByLabel('Account address').fill(ADMIN);
    await page.getByLabel('Password').fill(`wrong-${STAMP}`);
    await page.getByRole('button', { name: 'Log in' }).click();
    const message = page.locator('#login-form .form-message.error');
    await message.waitFor({ state: 'visible', timeout: 30000 });
    check((await message.textContent()).trim().length > 0, 'the error message is empty');
  });
  await step('logs in', async () => {
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#app').waitFor({ state: 'visible', timeout: 30000 });
    const who = (await page.locator('#who-user').textContent()).trim().toLowerCase();
    check(who === ADMIN.toLowerCase(), `logged in as "${who}", not ${ADMIN}`);
    check((await page.locator('#who-role').textContent()).includes('server'), 'POSTERN_ADMIN is not a server admin');
  });
}

async function dashboardSteps(page) {
  await step('the dashboard shows the counters and refreshes them every 5 s', async () => {
    await go(page, '#/');
    const pop = page.locator('[data-counter="pop"] .counter-value');
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-counter="accounts"] .counter-value');
      return v && v.textContent !== '…';
    });
    check(/^\d/.test(await pop.textContent()), `the POP counter reads "${await pop.textContent()}"`);
    await page.waitForRequest((r) => r.url().endsWith('/api/status'), { timeout: 8000 });
    await shot(page, 'dashboard');
  });
}

async function domainSteps(page) {
  await step('a bad domain name is refused next to its field', async () => {
    await go(page, '#/domains');
    await page.getByLabel('Domain name').fill('bad..name');
    await page.getByRole('button', { name: 'Create domain' }).click();
    const error = page.locator('.field', { has: page.getByLabel('Domain name') }).locator('.field-error');
    await error.waitFor({ state: 'visible' });
    check((await error.textContent()).trim().length > 0, 'the field error is empty');
    check(await page.getByLabel('Domain name').getAttribute('aria-invalid') === 'true', 'the field is not marked invalid');
  });
  await step(`creates the domain ${DOMAIN}`, async () => {
    await page.getByLabel('Domain name').fill(DOMAIN);
    await page.getByRole('button', { name: 'Create domain' }).click();
    await page.getByRole('link', { name: `Open ${DOMAIN}` }).waitFor();
    made.domain = true;
    await shot(page, 'domains');
    await page.getByRole('link', { name: `Open ${DOMAIN}` }).click();
    await page.getByRole('heading', { level: 1, name: DOMAIN }).waitFor();
  });
  await step('two different passwords are refused before anything is sent', async () => {
    const form = card(page, 'New account');
    await form.getByLabel('Account name').fill('tester');
    await form.getByLabel('Password', { exact: true }).fill(ACCOUNT_PASSWORD);
    await form.getByLabel('Password again').fill(`${ACCOUNT_PASSWORD}-other`);
    await form.getByRole('button', { name: 'Create account' }).click();
    await form.locator('.field', { has: page.getByLabel('Password again') }).locator('.field-error').waitFor({ state: 'visible' });
  });
  await step(`creates the account ${ACCOUNT}`, async () => {
    const form = card(page, 'New account');
    await form.getByLabel('Password again').fill(ACCOUNT_PASSWORD);
    await form.getByLabel('Quota (optional)').fill('100M');
    await form.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('link', { name: `Open ${ACCOUNT}` }).waitFor();
    made.account = true;
    await card(page, 'Accounts').getByRole('link', { name: ACCOUNT }).waitFor();
    await shot(page, 'domain');
  });
}

async function accountSteps(page) {
  await step('the account page opens', async () => {
    await page.getByRole('link', { name: `Open ${ACCOUNT}` }).click();
    await page.getByRole('heading', { level: 1, name: ACCOUNT }).waitFor();
    await card(page, 'Mailboxes').getByRole('cell', { name: 'INBOX', exact: true }).waitFor();
  });
  await step('sets an ACL entry on INBOX', async () => {
    const rights = card(page, 'Access rights');
    await rights.getByText('INBOX', { exact: true }).waitFor();
    await rights.getByLabel('Identifier').fill(`anyone@${DOMAIN}`);
    await rights.getByLabel('Rights').fill('lrs');
    await rights.getByRole('button', { name: 'Set rights' }).click();
    const row = rights.locator('tr', { hasText: `anyone@${DOMAIN}` });
    await row.waitFor();
    check((await row.locator('code').textContent()) === 'lrs', `the entry reads "${await row.locator('code').textContent()}"`);
  });
  await step('shows the messages of INBOX; "Expire now" says what the policy keeps', async () => {
    const boxes = card(page, 'Mailboxes');
    await boxes.getByRole('button', { name: 'Messages of INBOX' }).click();
    const messages = card(page, 'Messages');
    await messages.getByText('No message.').waitFor();
    await messages.getByRole('button', { name: 'Expire now' }).click();
    await messages.locator('.notice.ok').filter({ hasText: 'pop_expire = never' }).waitFor();
  });
  await step('creates, renames and deletes a mailbox', async () => {
    const boxes = card(page, 'Mailboxes');
    await boxes.getByLabel('New mailbox').fill('lists/info');
    await boxes.getByRole('button', { name: 'Create mailbox' }).click();
    await boxes.getByRole('cell', { name: 'lists/info', exact: true }).waitFor();
    await boxes.getByLabel('Mailbox to rename').selectOption('lists/info');
    await boxes.getByLabel('New name').fill('lists/news');
    await boxes.getByRole('button', { name: 'Rename mailbox' }).click();
    await boxes.getByRole('cell', { name: 'lists/news', exact: true }).waitFor();
    await boxes.getByRole('button', { name: 'Delete lists/news' }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete mailbox' }).click();
    await boxes.getByRole('cell', { name: 'lists/news', exact: true }).waitFor({ state: 'detached' });
    check(await boxes.getByRole('button', { name: 'Delete INBOX' }).count() === 0, 'INBOX has a delete button');
  });
  if (REMOTE) await step('adds a remote POP3 account; its first fetch brings the mail, "Run now" nothing new', async () => {
    const [host, port, user, password] = REMOTE.split(':');
    const remote = card(page, 'Remote POP3 accounts');
    await remote.getByText('No remote account.').waitFor();
    // a bad port is refused next to its field
    await remote.getByLabel('Server', { exact: true }).fill(host);
    await remote.getByLabel('Port', { exact: true }).fill('99999');
    await remote.getByLabel('User name there', { exact: true }).fill(user);
    await remote.getByLabel('Password there', { exact: true }).fill(password);
    await remote.getByRole('button', { name: 'Add remote account' }).click();
    check(await remote.getByLabel('Port', { exact: true }).evaluate((el) => !el.validity.valid), 'port 99999 was taken');
    await remote.getByLabel('Port', { exact: true }).fill(port);
    await remote.getByLabel('Security', { exact: true }).selectOption('none');
    await remote.getByLabel('Leave the mail on the server (fetch only what is new)', { exact: true }).check();
    await remote.getByRole('button', { name: 'Add remote account' }).click();
    const row = remote.locator('tr', { hasText: `${user}@${host}:${port}` });
    await row.filter({ hasText: `ok, ${REMOTE_COUNT} fetched` }).waitFor({ timeout: 20000 });
    await shot(page, 'account-remote-pop3');
    await row.getByRole('button', { name: 'Run now' }).click();
    await row.filter({ hasText: 'ok, 0 fetched' }).waitFor({ timeout: 20000 });
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByRole('button', { name: 'Enable' }).waitFor();
    check(await row.getByRole('button', { name: 'Run now' }).count() === 0, 'a disabled source offers Run now');
    await row.getByRole('button', { name: 'Remove' }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Remove' }).click();
    await remote.getByText('No remote account.').waitFor();
    const boxes = card(page, 'Mailboxes');
    await boxes.getByRole('cell', { name: 'INBOX', exact: true }).waitFor();
  });
  await step('gives the account the web admin right of its domain', async () => {
    const right = card(page, 'Web admin right');
    await right.getByLabel('Web admin right').selectOption('domain');
    await right.getByRole('button', { name: 'Save web admin right' }).click();
    await right.locator('.form-message.ok').waitFor();
  });
  await step('gives the account a real name with <script> in it; it shows as text, here and in the list', async () => {
    const name = card(page, 'Real name');
    await name.getByLabel('Real name').fill(HOSTILE);
    await name.getByRole('button', { name: 'Save real name' }).click();
    const shown = name.locator('p.real-name').filter({ hasText: 'window.__pwned' });
    await shown.waitFor();
    check(await shown.textContent() === HOSTILE, `the real name reads "${await shown.textContent()}"`);
    check(await name.locator('script, img, b').count() === 0, 'the real name became markup');
    await go(page, `#/domains/${DOMAIN}`);
    const cell = card(page, 'Accounts').getByRole('cell').filter({ hasText: 'window.__pwned' });
    await cell.waitFor();
    check(await cell.textContent() === HOSTILE || (await cell.textContent()).endsWith(HOSTILE),
      `the list shows "${await cell.textContent()}"`);
    check(await page.evaluate(() => window.__pwned) === undefined, 'a script in the real name ran');
    await go(page, `#/accounts/${encodeURIComponent(ACCOUNT)}`);
    await card(page, 'Post an alert').waitFor();
  });
  await step('posts an alert for the account; <script> in it shows as text', async () => {
    const post = card(page, 'Post an alert');
    await post.getByLabel('Alert text').fill(HOSTILE);
    await post.getByRole('button', { name: 'Post alert' }).click();
    await post.locator('.form-message.ok').waitFor();
    const cell = card(page, 'Alerts').locator('td.alert-text').filter({ hasText: 'window.__pwned' });
    await cell.waitFor();
    check(await cell.textContent() === HOSTILE, `the alert reads "${await cell.textContent()}"`);
    check(await cell.locator('script, img, b').count() === 0, 'the alert text became markup');
    check(await page.evaluate(() => window.__pwned) === undefined, 'a script in the alert text ran');
    await shot(page, 'account');
  });
}

// ---- a mail user's side, over POP (POSTERN_POP) ----

/** A POP connection: its greeting, then one reply line per command sent. */
function popOpen() {
  const [host, port] = [POP.slice(0, POP.lastIndexOf(':')), Number(POP.slice(POP.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port });
    let buf = '';
    const waiting = [];
    const lines = [];
    const deliver = () => {
      while (waiting.length && lines.length) waiting.shift()(lines.shift());
    };
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
      deliver();
    });
    sock.on('close', () => { lines.push('(closed)'); deliver(); });
    sock.on('error', reject);
    const line = () => new Promise((r) => { waiting.push(r); deliver(); });
    const session = {
      line,
      cmd: (text) => { sock.write(`${text}\r\n`); return line(); },
      close: () => sock.destroy(),
    };
    sock.on('connect', () => resolve(session));
  });
}

async function popLogin(user, password) {
  const s = await popOpen();
  try {
    const greeting = await s.line();
    check(greeting.startsWith('+OK'), `the POP greeting reads "${greeting}"`);
    await s.cmd(`USER ${user}`);
    const reply = await s.cmd(`PASS ${password}`);
    await s.cmd('QUIT');
    return reply;
  } finally {
    s.close();
  }
}

async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function popSteps(page) {
  if (!POP) {
    console.log('  # POSTERN_POP not set: the POP side of alerts and channels not checked');
    return;
  }
  await step('the alert refuses the account\'s next POP login with its text, once', async () => {
    const refused = await popLogin(ACCOUNT, ACCOUNT_PASSWORD);
    check(refused.startsWith('-ERR') && refused.includes('window.__pwned'),
      `the first POP login got "${refused}"`);
    const next = await popLogin(ACCOUNT, ACCOUNT_PASSWORD);
    check(next.startsWith('+OK'), `the second POP login got "${next}"`);
  });
}

async function settingsSteps(page) {
  let original = null;
  await step('settings: a bad POP channel limit is refused next to the field', async () => {
    await go(page, '#/settings');
    const input = page.locator('input[name="pop.channels"]');
    await input.waitFor();
    original = await input.inputValue();
    await input.fill('abc');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const error = page.locator('.field', { has: input }).locator('.field-error');
    await error.waitFor({ state: 'visible' });
  });
  await step('settings: changes the POP channel limit, and it stays changed', async () => {
    const n = Number(original);
    check(Number.isInteger(n), `pop.channels reads "${original}"`);
    const changed = String(n > 1 ? n - 1 : n + 1);
    await saveChannels(page, changed);
    await shot(page, 'settings');
    await page.reload();
    await page.locator('input[name="pop.channels"]').waitFor();
    const now = await page.locator('input[name="pop.channels"]').inputValue();
    check(now === changed, `after a reload pop.channels is ${now}, not ${changed}`);
    await saveChannels(page, original);
  });
  if (!POP) return;
  await step('settings: pop.channels = 1 takes effect at once: a second POP client is turned away', async () => {
    await saveChannels(page, '1');
    const first = await popOpen();
    try {
      check((await first.line()).startsWith('+OK'), 'the first POP client got no greeting');
      await until('the second POP client is refused', async () => {
        const second = await popOpen();
        const greeting = await second.line();
        second.close();
        return greeting.startsWith('-ERR') && /too many/i.test(greeting);
      });
    } finally {
      first.close();
    }
    await saveChannels(page, original);
    await until('two POP clients are served again', async () => {
      const a = await popOpen();
      const b = await popOpen();
      const ok = (await a.line()).startsWith('+OK') && (await b.line()).startsWith('+OK');
      a.close();
      b.close();
      return ok;
    });
  });
}

async function saveChannels(page, value) {
  await page.locator('input[name="pop.channels"]').fill(value);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.locator('.settings-form .form-message.ok').filter({ hasText: 'pop.channels' }).waitFor();
}

async function queueSteps(page) {
  await step('the queue page lists entries; delete asks first, and Cancel keeps the entry', async () => {
    await go(page, '#/queue');
    const list = card(page, 'Queued messages');
    await list.locator('table, .notice').first().waitFor();
    const deletes = list.getByRole('button', { name: /^Delete / });
    if (await deletes.count() > 0) {
      const rows = await list.locator('tbody tr').count();
      await deletes.first().click();
      const dialog = page.locator('#confirm-dialog');
      await dialog.waitFor({ state: 'visible' });
      check((await dialog.textContent()).includes('no bounce'), 'the confirmation does not say what deleting means');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      check(await list.locator('tbody tr').count() === rows, 'Cancel removed a queue entry');
    }
    await shot(page, 'queue');
  });
}

async function logSteps(page) {
  await step('the log page shows lines as text and follows new ones', async () => {
    await go(page, '#/log');
    const output = page.locator('.log-output');
    await page.locator('.status-line').filter({ hasText: /lines, read|Following/ }).waitFor();
    check(await output.locator(':scope > :not(.log-line)').count() === 0, 'the log view holds something other than lines');
    check(await output.locator('.log-line *').count() === 0, 'a log line became markup');
    const before = await output.locator('.log-line').count();
    const polled = page.waitForResponse((r) => r.url().includes('/api/log?') && r.url().includes('after='), { timeout: 6000 });
    await page.getByLabel(/Follow new lines/).check();
    check((await polled).status() === 200, 'following the log failed');
    if (LOG_GROWS) {
      await page.waitForFunction((n) => document.querySelectorAll('.log-output .log-line').length > n, before, { timeout: 8000 });
      const scrolled = await output.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40);
      check(scrolled, 'the log view did not scroll to the new lines');
    }
    await shot(page, 'log');
    await page.getByLabel(/Follow new lines/).uncheck();
  });
}

async function pagingSteps(page) {
  await step('account search and paging on a large domain (50 at a time)', async () => {
    await go(page, '#/domains');
    const list = card(page, 'Domains');
    await list.locator('table').waitFor();
    const rows = await list.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      name: tr.cells[0].textContent, accounts: Number(tr.cells[1].textContent.replace(/\D/g, '')) })));
    const big = rows.filter((r) => r.accounts > 100).sort((a, b) => b.accounts - a.accounts)[0];
    if (!big) {
      console.log('  # no domain with more than 100 accounts: paging not checked');
      return;
    }
    const asked = [];
    page.on('request', (r) => { if (r.url().includes('/accounts?') || r.url().endsWith('/accounts')) asked.push(r.url()); });
    await list.getByRole('link', { name: big.name, exact: true }).click();
    const accounts = card(page, 'Accounts');
    const status = accounts.locator('.pager-status');
    await status.filter({ hasText: /^1–50 of/ }).waitFor();
    check(await accounts.locator('tbody tr').count() === 50, 'the first page does not show 50 accounts');
    const firstOfPage1 = await accounts.locator('tbody tr td a').first().textContent();
    await accounts.getByRole('button', { name: 'Next page' }).click();
    await status.filter({ hasText: /^51–100 of/ }).waitFor();
    const firstOfPage2 = await accounts.locator('tbody tr td a').first().textContent();
    check(firstOfPage1 !== firstOfPage2, 'the next page shows the same accounts');

    const prefix = firstOfPage2.slice(0, 5);
    const typedFrom = asked.length;
    const started = Date.now();
    await accounts.getByLabel('Search accounts').pressSequentially(prefix, { delay: 40 });
    await status.filter({ hasText: /^1–/ }).waitFor();
    await page.waitForFunction((p) => [...document.querySelectorAll('.results tbody tr td a')]
      .every((a) => a.textContent.toLowerCase().startsWith(p.toLowerCase())), prefix);
    const took = Date.now() - started;
    const searches = asked.length - typedFrom;
    check(searches <= 2, `typing "${prefix}" sent ${searches} searches: the search is not debounced`);
    check(asked.every((u) => new URL(u).searchParams.get('limit') === '50'), `an account list asked for more than 50: ${asked.join(' ')}`);
    check(took < 5000, `the search took ${took} ms`);
    console.log(`  # ${big.name}: ${big.accounts} accounts; search "${prefix}" answered in ${took} ms with ${searches} request(s)`);
  });
}

async function phoneSteps(page) {
  await step('at 360 px the pages fit, and the navigation is behind a menu button', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await go(page, '#/');
    await page.waitForFunction(() => document.querySelector('[data-counter="accounts"] .counter-value')?.textContent !== '…');
    check(await page.locator('#menu-button').isVisible(), 'no menu button at phone width');
    check(await page.locator('#nav').isHidden(), 'the navigation is open at phone width');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 360, `the page is ${width} px wide at a 360 px screen`);
    await shot(page, 'dashboard-phone');
    await page.locator('#menu-button').click();
    await page.locator('#nav').getByRole('link', { name: 'Queue', exact: true }).click();
    await card(page, 'Queued messages').locator('table, .notice').first().waitFor();
    const queueWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    check(queueWidth <= 360, `the queue page is ${queueWidth} px wide at a 360 px screen`);
    await shot(page, 'queue-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
}

async function domainAdminSteps(browser) {
  await step(`${ACCOUNT}, a domain admin, sees only ${DOMAIN} and no server page`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await watch(page);
      await page.goto(`${BASE}/`);
      await page.getByLabel('Account address').fill(ACCOUNT);
      await page.getByLabel('Password').fill(ACCOUNT_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('#app').waitFor({ state: 'visible', timeout: 30000 });
      check((await page.locator('#who-role').textContent()).includes('domain'), 'the account is not shown as a domain admin');
      for (const name of ['Settings', 'Queue', 'Log']) {
        check(await page.locator('#nav').getByRole('link', { name, exact: true }).isHidden(), `a domain admin sees the ${name} link`);
      }
      await card(page, 'Your domains').getByRole('link', { name: DOMAIN, exact: true }).waitFor();
      await go(page, '#/domains');
      await card(page, 'Domains').locator('table').waitFor();
      const names = await card(page, 'Domains').locator('tbody td.primary').allTextContents();
      check(names.length === 1 && names[0] === DOMAIN, `a domain admin of ${DOMAIN} is shown the domains ${names.join(', ')}`);
      check(await page.getByLabel('Domain name').count() === 0, 'a domain admin is offered to create domains');
      await go(page, '#/settings');
      await page.getByText('This page is for server admins only.').waitFor();
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.locator('#login-form').waitFor({ state: 'visible' });
    } finally {
      await context.close();
    }
  });
}

async function lostSessionSteps(page, context) {
  await step('when the session is gone, the next request leads to the login form, then back', async () => {
    await go(page, '#/domains');
    await card(page, 'Domains').locator('table').waitFor();
    await context.clearCookies();
    await page.locator('#nav').getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.locator('#login-form .form-message').filter({ hasText: /session/i }).waitFor();
    await page.getByLabel('Account address').fill(ADMIN);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor({ timeout: 30000 });
  });
}

async function cleanupSteps(page) {
  await step('deletes the account and the domain, each after a confirmation', async () => {
    await go(page, `#/accounts/${encodeURIComponent(ACCOUNT)}`);
    await page.getByRole('button', { name: `Delete ${ACCOUNT}` }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete account' }).click();
    await page.getByRole('heading', { level: 1, name: DOMAIN }).waitFor();
    made.account = false;
    await page.getByRole('button', { name: `Delete ${DOMAIN}` }).click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete domain' }).click();
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    made.domain = false;
  });
}

async function logoutSteps(page, context) {
  await step('logs out; a reload shows the login form and the session is gone', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#login-form').waitFor({ state: 'visible' });
    await page.reload();
    await page.locator('#login-form').waitFor({ state: 'visible' });
    check(await page.locator('#app').isHidden(), 'the app shell is visible after logging out');
    const answer = await context.request.get(`${BASE}/api/session`);
    check(answer.status() === 401, `GET /api/session answers ${answer.status()} after logout`);
  });
}

/** Removes what a failed run left behind, through the API. */
async function cleanUpAfterFailure(context) {
  if (!made.account && !made.domain) return;
  try {
    const login = await context.request.post(`${BASE}/api/login`, { data: { user: ADMIN, password: PASSWORD } });
    const { csrf } = await login.json();
    const headers = { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' };
    if (made.account) await context.request.delete(`${BASE}/api/accounts/${encodeURIComponent(ACCOUNT)}`, { headers });
    if (made.domain) await context.request.delete(`${BASE}/api/domains/${encodeURIComponent(DOMAIN)}`, { headers });
    await context.request.post(`${BASE}/api/logout`, { headers });
    console.log(`  # removed ${made.account ? `${ACCOUNT} and ` : ''}${DOMAIN} after the failure`);
  } catch (err) {
    console.log(`  # could not remove ${DOMAIN} after the failure: ${err.message}`);
  }
}

async function main() {
  await mkdir(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.POSTERN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  await watch(page);
  try {
    await loginSteps(page);
    await dashboardSteps(page);
    await domainSteps(page);
    await accountSteps(page);
    await popSteps(page);
    await settingsSteps(page);
    await queueSteps(page);
    await logSteps(page);
    await pagingSteps(page);
    await phoneSteps(page);
    await domainAdminSteps(browser);
    await lostSessionSteps(page, context);
    await cleanupSteps(page);
    await step('no script error and no Content-Security-Policy violation on the way', async () => {
      await noCspViolations(page);
      check(problems.length === 0, problems.join('\n'));
    });
    await logoutSteps(page, context);
  } catch {
    if (problems.length) console.log(`  # also seen: ${problems.join('\n  # ')}`);
    await shot(page, 'failure').catch(() => {});
    await cleanUpAfterFailure(context);
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${SHOTS}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`admin.spec.mjs: ${err.stack || err}`);
  process.exit(1);
});
