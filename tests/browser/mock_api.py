#!/usr/bin/env python3
"""MOCK of the Postern web admin API - for developing and testing the pages only.

This is NOT the server.  The real API is served by posternd's `http` module
(C, libmicrohttpd); this stand-in implements doc/api.md in memory, with the
Python standard library only, so the pages in webadmin/ can be seen and
tested before (and without) a built server.  Nothing is stored on disk and
every restart starts from the same made-up data:

- login as admin@example.com / S3cret-pass (server admin) or
  boss@client1.com / Boss-pass-1 (domain admin of client1.com);
- the domains example.com, client1.com and big.example, the last with
  100,000 generated accounts for the search and paging;
- a few alerts, relay queue entries, and a log that grows by a line a second;
- CSRF checking, the status codes and `{"error", "field"}` answers of
  doc/api.md, and the Content-Security-Policy the real server sends.

    python3 tests/browser/mock_api.py --port 8010
    python3 tests/browser/mock_api.py --port 0 --port-file /tmp/port   # a free port

Where doc/api.md leaves a detail open, the mock's choice is marked
"mock's choice" below; webadmin/README.md lists those points.
"""

import argparse
import bisect
import datetime
import http.cookies
import http.server
import ipaddress
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse

MAX_REQUEST = 64 * 1024
SESSION_IDLE = 30 * 60
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; frame-ancestors 'none'")
STATIC_TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
}
NAME_RE = re.compile(r'^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9_-])?$')
SIZE_RE = re.compile(r'^(\d+)([kMG]?)$')
DURATION_RE = re.compile(r'^(\d+)([smhd]?)$')
RIGHTS = 'lrswipcda'
LEVELS = ['error', 'warning', 'notice', 'info', 'debug']
SERVICES = ('pop', 'xmit', 'lmtp', 'retrieval')
POLICY_DEFAULTS = {
    'pop': 'yes', 'xmit': 'yes', 'lmtp': 'yes', 'retrieval': 'yes', 'pop_from': 'all',
    'pop_delete': 'delete', 'pop_login_delay': '0', 'pop_expire': 'never',
}


class ApiError(Exception):
    def __init__(self, status, message, field=None, allow=None):
        super().__init__(message)
        self.status, self.message, self.field, self.allow = status, message, field, allow


def now_iso(offset_seconds=0):
    """Times as ISO 8601 UTC text (mock's choice: doc/api.md names no format)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.replace(microsecond=0).isoformat().replace('+00:00', 'Z')


# ---------------------------------------------------------------- checks

def check_name(value, field, what):
    if not isinstance(value, str) or not NAME_RE.match(value) or '..' in value:
        raise ApiError(400, f'{what} "{value}" is not valid: use 1-128 letters, digits, "_", "-" and ".", '
                            'not starting or ending with a dot', field)
    return value.lower()


def check_text(value, field, what, low, high):
    if not isinstance(value, str):
        raise ApiError(400, f'{what} must be text', field)
    octets = len(value.encode('utf-8'))
    if octets < low or octets > high:
        raise ApiError(400, f'{what} must be {low} to {high} octets (this is {octets})', field)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ApiError(400, f'{what} must be one line without control characters', field)
    return value


def parse_size(value, field, low=None, high=None):
    m = SIZE_RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ApiError(400, f'"{value}" is not a size: give octets or a number with k, M or G (500M)', field)
    n = int(m.group(1)) * {'': 1, 'k': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3}[m.group(2)]
    if (low is not None and n < low) or (high is not None and n > high):
        raise ApiError(400, f'{field}: {value} is out of range', field)
    return n


def parse_duration(value, field, low=None, high=None):
    m = DURATION_RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ApiError(400, f'"{value}" is not a duration: give seconds or a number with s, m, h or d (10m)', field)
    n = int(m.group(1)) * {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[m.group(2)]
    if (low is not None and n < low) or (high is not None and n > high):
        raise ApiError(400, f'{field}: {value} is out of range', field)
    return n


def check_mailbox_name(value, field='name'):
    if not isinstance(value, str) or not value:
        raise ApiError(400, 'give the mailbox a name', field)
    if len(value.encode('utf-8')) > 255:
        raise ApiError(400, 'a mailbox name is at most 255 octets', field)
    if value.startswith('~'):
        raise ApiError(400, 'a mailbox name cannot start with "~"', field)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ApiError(400, 'a mailbox name cannot hold control characters', field)
    if any(level in ('', '.', '..') for level in value.split('/')):
        raise ApiError(400, f'"{value}" has an empty, "." or ".." level', field)
    return value


def check_policy(name, value):
    field = f'policies.{name}'   # mock's choice of the field name for a policy
    if name not in POLICY_DEFAULTS:
        raise ApiError(400, f'unknown policy "{name}"', field)
    if not isinstance(value, str):
        raise ApiError(400, f'{name}: the value must be text', field)
    if value == '':
        return value
    ok = {
        'pop_from': value in ('all', 'enable-time'),
        'pop_delete': value in ('delete', 'hide', 'mark-read') or value.startswith('archive:'),
        'pop_login_delay': bool(DURATION_RE.match(value)),
        'pop_expire': value == 'never' or value.isdigit(),
    }.get(name, value in ('yes', 'no'))
    if not ok:
        hint = {'pop_from': 'all or enable-time', 'pop_delete': 'delete, hide, mark-read or archive:MAILBOX',
                'pop_login_delay': 'seconds, or a number with s, m, h or d', 'pop_expire': 'days or never'}
        raise ApiError(400, f'{name}: "{value}" is not valid; use {hint.get(name, "yes or no")}', field)
    if name == 'pop_delete' and value.startswith('archive:'):
        box = value[len('archive:'):]
        if box == 'INBOX':
            raise ApiError(400, 'pop_delete: the archive cannot be INBOX', field)
        check_mailbox_name(box, field)
    return value


def apply_policies(target, changes):
    if not isinstance(changes, dict):
        raise ApiError(400, 'policies must be an object of name: value', 'policies')
    checked = {name: check_policy(name, value) for name, value in changes.items()}
    for name, value in checked.items():
        if value == '':
            target.pop(name, None)
        else:
            target[name] = value


def effective_policies(levels):
    """levels: [(level name, dict)] from the server down; a service's 'no' anywhere wins."""
    out = {}
    for name, default in POLICY_DEFAULTS.items():
        if name in SERVICES:
            no = next((lvl for lvl, d in levels if d.get(name) == 'no'), None)
            if no:
                out[name] = {'value': 'no', 'from': no}
                continue
        chosen = next(((lvl, d[name]) for lvl, d in reversed(levels) if name in d), None)
        out[name] = {'value': chosen[1], 'from': chosen[0]} if chosen else {'value': default, 'from': 'default'}
    return out


def take(body, required=(), optional=()):
    """The body's fields; unknown or missing ones are refused as doc/api.md says."""
    if body is None:
        body = {}
    for key in body:
        if key not in required and key not in optional:
            raise ApiError(400, f'unknown field "{key}"', key)
    for key in required:
        if key not in body:
            raise ApiError(400, f'the field "{key}" is missing', key)
    return body


def paged(items, query):
    """Every list as {items, total, offset} (mock's choice: doc/api.md's convention for all lists)."""
    offset = int_param(query, 'offset', 0, 0, 10 ** 9)
    limit = int_param(query, 'limit', 100, 1, 500)
    return {'items': items[offset:offset + limit], 'total': len(items), 'offset': offset}


def int_param(query, name, default, low, high):
    raw = query.get(name)
    if raw is None or raw == '':
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f'{name} must be a whole number from {low} to {high}', name)
    return int(raw)


# ---------------------------------------------------------------- the data

class Account:
    __slots__ = ('name', 'domain', 'quota', 'used', 'messages', 'admin', 'webadmin',
                 'aliases', 'policies', 'boxes', 'password')

    def __init__(self, name, domain, password=None, quota=None, used=0, messages=0):
        self.name, self.domain, self.password = name, domain, password
        self.quota, self.used, self.messages = quota, used, messages
        self.admin, self.webadmin = False, 'none'
        self.aliases, self.policies, self.boxes = [], {}, None

    @property
    def address(self):
        return f'{self.name}@{self.domain.name}'

    def mailboxes(self):
        if self.boxes is None:   # made when first asked for: 100,000 accounts stay light
            self.boxes = {'INBOX': {'messages': self.messages, 'size': self.used, 'acl': {}}}
        return self.boxes

    def summary(self):
        # mock's choice: quota, used and size in octets, quota None (null) for none
        return {'address': self.address, 'quota': self.quota, 'used': self.used, 'messages': self.messages}


class Domain:
    def __init__(self, name):
        self.name = name
        self.unified_account = ''
        self.aliases, self.bound, self.policies = [], [], {}
        self.accounts = {}
        self.sorted_names = []

    def add(self, account):
        self.accounts[account.name] = account
        bisect.insort(self.sorted_names, account.name)

    def remove(self, name):
        del self.accounts[name]
        self.sorted_names.pop(bisect.bisect_left(self.sorted_names, name))

    def search(self, prefix):
        """The slice of sorted names starting with prefix: two binary searches."""
        prefix = prefix.lower()
        lo = bisect.bisect_left(self.sorted_names, prefix)
        hi = bisect.bisect_left(self.sorted_names, prefix + '\U0010ffff')
        return lo, hi


class Log:
    """A log 'file' that grows by about a line a second; offsets are octets."""

    TEMPLATES = [
        ('info', 'POP-{n} [192.0.2.{ip}] jsmith@example.com: login (USER/PASS over TLS)'),
        ('info', 'POP-{n} [192.0.2.{ip}] jsmith@example.com: QUIT, 2 messages removed'),
        ('notice', 'LMTP-{n} [127.0.0.1] delivered to ann@client1.com (2048 octets)'),
        ('warning', 'POP-{n} [203.0.113.{ip}] login failed for "<script>alert(1)</script>"'),
        ('debug', 'SMTP queue {n}: attempt 1 from <jsmith@example.com>, to the smarthost'),
        ('error', 'SMTP queue {n}: <bad@example.net> failed: 550 5.1.1 <img src=x onerror=alert(2)> no such user'),
        ('info', 'HTTP-{n} [192.0.2.{ip}] admin@example.com: GET /api/status'),
    ]

    def __init__(self):
        self.lines = []      # (start offset, level, tag, text)
        self.size = 0
        self.counter = 0
        self.last = time.time()
        start = time.time() - 400
        for i in range(300):
            self._add(start + i)

    def _add(self, t):
        level, pattern = self.TEMPLATES[self.counter % len(self.TEMPLATES)]
        self.counter += 1
        text = pattern.format(n=self.counter, ip=self.counter % 250 + 1)
        stamp = datetime.datetime.fromtimestamp(t).strftime('%Y-%m-%d %H:%M:%S')
        line = f'{stamp} {level} {text}'
        self.lines.append((self.size, level, text.split(' ', 1)[0], line))
        self.size += len(line.encode('utf-8')) + 1

    def grow(self):
        now = time.time()
        while self.last + 1 <= now:
            self.last += 1
            self._add(self.last)
        self.last = max(self.last, now - 60)

    def read(self, lines, tag, level, after):
        self.grow()
        worst = LEVELS.index(level) if level else len(LEVELS) - 1
        if after is not None and after > self.size:
            after = 0   # mock's choice: shorter than the offset means rotated, so read the new file
        wanted = [text for start, lvl, t, text in self.lines
                  if (after is None or start >= after)
                  and LEVELS.index(lvl) <= worst and t.upper().startswith(tag.upper())]
        if after is None:
            wanted = wanted[-lines:]
        return {'lines': wanted[-1000:], 'offset': self.size}


SETTINGS_DEFAULTS = {
    'pop.listen': '127.0.0.1:110', 'pop.tls_listen': '', 'pop.channels': '1000',
    'pop.channels_per_ip': '20', 'pop.idle_timeout': '10m', 'pop.max_bad_commands': '10',
    'pop.max_auth_failures': '3', 'lmtp.listen': '127.0.0.1:24', 'lmtp.channels': '100',
    'lmtp.idle_timeout': '5m', 'lmtp.max_message_size': '50M', 'lmtp.max_recipients': '1000',
    'relay.smarthost': '', 'relay.starttls': 'opportunistic', 'relay.retry_schedule': '5m, 15m, 30m, 1h, 2h, 4h',
    'relay.max_queue_time': '5d', 'relay.xmit': 'yes', 'relay.max_message_size': '50M',
    'relay.max_recipients': '100', 'relay.max_messages_per_hour': '100', 'log.level': 'info',
    'tls.cert': '', 'tls.key': '',
}


def check_setting(key, value):
    if not isinstance(value, str):
        raise ApiError(400, f'{key}: the value must be text', key)

    def integer(low, high):
        if not value.isdigit() or not low <= int(value) <= high:
            raise ApiError(400, f'{key}: "{value}" is not a whole number from {low} to {high}', key)

    def choice(*values):
        if value not in values:
            raise ApiError(400, f'{key}: "{value}" is not one of {", ".join(values)}', key)

    def addresses(empty_ok, paths_ok=False):
        parts = [p.strip() for p in value.split(',') if p.strip()]
        if not parts and not empty_ok:
            raise ApiError(400, f'{key}: give at least one address', key)
        for p in parts:
            if paths_ok and p.startswith('/'):
                continue
            if not re.match(r'^(\*|\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):\d{1,5}$', p):
                raise ApiError(400, f'{key}: "{p}" is not HOST:PORT (127.0.0.1:110, [::1]:110, *:110)', key)

    checks = {
        'pop.listen': lambda: addresses(True), 'pop.tls_listen': lambda: addresses(True),
        'pop.channels': lambda: integer(0, 100000), 'pop.channels_per_ip': lambda: integer(0, 100000),
        'pop.idle_timeout': lambda: parse_duration(value, key, 1, 86400),
        'pop.max_bad_commands': lambda: integer(1, 1000), 'pop.max_auth_failures': lambda: integer(1, 100),
        'lmtp.listen': lambda: addresses(True, paths_ok=True), 'lmtp.channels': lambda: integer(0, 100000),
        'lmtp.idle_timeout': lambda: parse_duration(value, key, 1, 86400),
        'lmtp.max_message_size': lambda: parse_size(value, key, 1024, 2 * 1024 ** 3),
        'lmtp.max_recipients': lambda: integer(100, 100000),
        'relay.smarthost': lambda: addresses(True) if ',' not in value else choice('one host:port'),
        'relay.starttls': lambda: choice('required', 'opportunistic', 'off'),
        'relay.retry_schedule': lambda: [parse_duration(p, key, 1) for p in value.split(',')],
        'relay.max_queue_time': lambda: parse_duration(value, key, 60),
        'relay.xmit': lambda: choice('yes', 'no'),
        'relay.max_message_size': lambda: parse_size(value, key, 1024, 2 * 1024 ** 3),
        'relay.max_recipients': lambda: integer(1, 1000),
        'relay.max_messages_per_hour': lambda: integer(0, 1000000),
        'log.level': lambda: choice(*LEVELS),
        'tls.cert': lambda: value == '' or value.startswith('/') or choice('an absolute path'),
        'tls.key': lambda: value == '' or value.startswith('/') or choice('an absolute path'),
    }
    if key not in checks:
        raise ApiError(400, f'"{key}" is not a setting this page can change', key)
    checks[key]()
    return value


class Store:
    FIRST = ['anna', 'ben', 'carla', 'david', 'eva', 'farid', 'greta', 'hugo', 'ines', 'jonas',
             'karin', 'lena', 'marco', 'nina', 'oskar', 'paula', 'quinn', 'rosa', 'sven', 'tara']
    LAST = ['smith', 'mueller', 'rossi', 'novak', 'garcia', 'dubois', 'jensen', 'kowalski',
            'silva', 'tanaka', 'olsen', 'meyer', 'costa', 'fischer', 'berg', 'weber', 'lopez',
            'moreau', 'nagy', 'young', 'adams', 'baker', 'clark', 'evans', 'hall']

    def __init__(self, big_accounts):
        self.started = time.time()
        self.domains = {}
        self.server_policies = {}
        self.alerts = []
        self.next_id = 100
        self.sessions = {}
        self.settings = dict(SETTINGS_DEFAULTS)
        self.runtime = set()
        self.log = Log()
        self.queue = {}
        self._seed(big_accounts)

    def _seed(self, big_accounts):
        example = self.add_domain('example.com')
        admin = Account('admin', example, 'S3cret-pass', quota=2 * 1024 ** 3, used=123_456_789, messages=812)
        admin.webadmin = 'server'
        admin.admin = True
        example.add(admin)
        js = Account('jsmith', example, 'Jsmith-pass-1', quota=500 * 1024 ** 2, used=48_000_000, messages=120)
        js.aliases = ['john']
        js.mailboxes()['lists/info'] = {'messages': 14, 'size': 90_000, 'acl': {'anyone@example.com': 'lrs'}}
        js.mailboxes()['Archive'] = {'messages': 300, 'size': 12_000_000, 'acl': {}}
        example.add(js)
        example.aliases = ['example.net']
        example.bound = ['192.0.2.10']
        client1 = self.add_domain('client1.com')
        client1.unified_account = 'cl1'
        client1.policies = {'xmit': 'no'}
        boss = Account('boss', client1, 'Boss-pass-1', used=1_000_000, messages=20)
        boss.webadmin = 'domain'
        client1.add(boss)
        for name in ('ann', 'cl1', 'max'):
            client1.add(Account(name, client1, None, used=200_000, messages=3))
        big = self.add_domain('big.example')
        names = set()
        i = 0
        while len(names) < big_accounts:
            first = self.FIRST[i % len(self.FIRST)]
            last = self.LAST[(i // len(self.FIRST)) % len(self.LAST)]
            names.add(f'{first}.{last}{i // (len(self.FIRST) * len(self.LAST)) or ""}')
            i += 1
        for n, name in enumerate(sorted(names)):
            account = Account(name, big, None, quota=1024 ** 3 if n % 3 else None,
                              used=(n * 7919) % 900_000_000, messages=(n * 31) % 5000)
            big.accounts[name] = account
        big.sorted_names = sorted(names)
        self.alerts = [
            {'id': 1, 'posted': now_iso(-86400), 'scope': 'server', 'domain': None, 'account': None,
             'text': 'Maintenance tonight 22:00-23:00 UTC'},
            {'id': 2, 'posted': now_iso(-3600), 'scope': 'domain', 'domain': 'client1.com', 'account': None,
             'text': 'client1.com moves to new servers on Monday'},
            {'id': 3, 'posted': now_iso(-60), 'scope': 'account', 'domain': 'example.com',
             'account': 'jsmith@example.com', 'text': 'Your mailbox is 95% full'},
        ]
        self.queue = {
            5: {'id': 5, 'created': now_iso(-300), 'sender': 'jsmith@example.com', 'account': 'jsmith@example.com',
                'client': '192.0.2.7', 'size': 2048, 'attempts': 2, 'next_attempt': now_iso(240),
                'recipients': [
                    {'address': 'bob@example.org', 'state': 'done', 'last_attempt': now_iso(-200),
                     'remote_mta': 'mx.example.org', 'reply': '250 2.0.0 Ok: queued as 4Xz'},
                    {'address': 'carol@example.org', 'state': 'pending', 'last_attempt': now_iso(-120),
                     'remote_mta': 'mx.example.org',
                     'reply': '451 4.4.1 Connection timed out while talking to mx.example.org after end of data'}]},
            6: {'id': 6, 'created': now_iso(-7200), 'sender': '', 'account': None, 'client': None,
                'size': 987, 'attempts': 5, 'next_attempt': now_iso(0),
                'recipients': [{'address': 'spam@example.net', 'state': 'pending', 'last_attempt': now_iso(-600),
                                'remote_mta': None, 'reply': 'connect to smtp.example.net: Connection refused'}]},
            7: {'id': 7, 'created': now_iso(-30), 'sender': 'ann@client1.com', 'account': 'ann@client1.com',
                'client': '198.51.100.4', 'size': 51_234, 'attempts': 0, 'next_attempt': now_iso(10),
                'recipients': [{'address': f'friend{i}@example.net', 'state': 'pending', 'last_attempt': None,
                                'remote_mta': None, 'reply': None} for i in range(3)]},
        }

    def add_domain(self, name):
        domain = Domain(name)
        self.domains[name] = domain
        return domain

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def find_domain(self, name, field=None):
        key = name.lower()
        domain = self.domains.get(key)
        if domain is None:
            domain = next((d for d in self.domains.values() if key in d.aliases), None)
        if domain is None:
            raise ApiError(404, f'no such domain: {name}', field)
        return domain

    def find_account(self, address, field=None):
        name, sep, domain_name = address.rpartition('@')
        if not sep:
            name, domain_name = address, 'example.com'   # mock's main_domain
        domain = self.find_domain(domain_name, field)
        account = domain.accounts.get(name.lower())
        if account is None:
            owner = next((a for a in domain.accounts.values() if name.lower() in a.aliases), None)
            if owner is None:
                raise ApiError(404, f'no such account: {address}', field)
            account = owner
        return account

    def total_accounts(self):
        return sum(len(d.accounts) for d in self.domains.values())


# ---------------------------------------------------------------- the API

class Api:
    def __init__(self, store):
        self.store = store
        self.routes = []
        r = self.route
        r('POST', 'api/login', self.login, auth=False)
        r('GET', 'api/session', self.session_info)
        r('POST', 'api/logout', self.logout)
        r('GET', 'api/status', self.status, server=True)
        r('GET', 'api/log', self.log, server=True)
        r('GET', 'api/domains', self.domain_list)
        r('POST', 'api/domains', self.domain_create, server=True)
        r('GET', 'api/domains/*', self.domain_get)
        r('PATCH', 'api/domains/*', self.domain_patch)
        r('DELETE', 'api/domains/*', self.domain_delete, server=True)
        r('POST', 'api/domains/*/aliases', self.domain_alias_add)
        r('DELETE', 'api/domains/*/aliases/*', self.domain_alias_del)
        r('POST', 'api/domains/*/bound', self.bound_add, server=True)
        r('DELETE', 'api/domains/*/bound/*', self.bound_del, server=True)
        r('GET', 'api/domains/*/accounts', self.account_list)
        r('POST', 'api/domains/*/accounts', self.account_create)
        r('GET', 'api/accounts/*', self.account_get)
        r('PATCH', 'api/accounts/*', self.account_patch)
        r('DELETE', 'api/accounts/*', self.account_delete)
        r('POST', 'api/accounts/*/password', self.account_password)
        r('POST', 'api/accounts/*/aliases', self.account_alias_add)
        r('DELETE', 'api/accounts/*/aliases/*', self.account_alias_del)
        r('GET', 'api/accounts/*/mailboxes', self.mailbox_list)
        r('POST', 'api/accounts/*/mailboxes', self.mailbox_create)
        r('PATCH', 'api/accounts/*/mailboxes/*', self.mailbox_rename)
        r('DELETE', 'api/accounts/*/mailboxes/*', self.mailbox_delete)
        r('GET', 'api/accounts/*/mailboxes/*/acl', self.acl_list)
        r('PUT', 'api/accounts/*/mailboxes/*/acl/*', self.acl_set)
        r('DELETE', 'api/accounts/*/mailboxes/*/acl/*', self.acl_delete)
        r('GET', 'api/alerts', self.alert_list)
        r('POST', 'api/alerts', self.alert_post)
        r('DELETE', 'api/alerts/*', self.alert_delete)
        r('GET', 'api/server', self.server_get, server=True)
        r('PATCH', 'api/server', self.server_patch, server=True)
        r('GET', 'api/settings', self.settings_get, server=True)
        r('PATCH', 'api/settings', self.settings_patch, server=True)
        r('GET', 'api/queue', self.queue_list, server=True)
        r('POST', 'api/queue/flush', self.queue_flush, server=True)
        r('GET', 'api/queue/*', self.queue_get, server=True)
        r('DELETE', 'api/queue/*', self.queue_delete, server=True)
        r('POST', 'api/queue/*/retry', self.queue_retry, server=True)

    def route(self, method, pattern, handler, auth=True, server=False):
        self.routes.append((method, pattern.split('/'), handler, auth, server))

    def dispatch(self, method, segments):
        """(handler, captures, auth, server) for the request, or an ApiError 404/405."""
        allowed = []
        for m, pattern, handler, auth, server in self.routes:
            if len(pattern) != len(segments):
                continue
            if all(p == '*' or p == s for p, s in zip(pattern, segments)):
                if m == method:
                    return handler, [s for p, s in zip(pattern, segments) if p == '*'], auth, server
                allowed.append(m)
        if allowed:
            raise ApiError(405, f'{method} is not taken here; use {", ".join(sorted(set(allowed)))}',
                           allow=', '.join(sorted(set(allowed))))
        raise ApiError(404, 'no such API path: see doc/api.md')

    # --- rights

    @staticmethod
    def may_domain(session, domain):
        return session['role'] == 'server' or domain.name in session['domains']

    def domain_for(self, session, name, field=None):
        domain = self.store.find_domain(name, field)
        if not self.may_domain(session, domain):
            raise ApiError(403, f'you administer no domain {name}', field)
        return domain

    def account_for(self, session, address, field=None):
        account = self.store.find_account(address, field)
        if not self.may_domain(session, account.domain):
            raise ApiError(403, f'{address} is outside the domains you administer', field)
        return account

    # --- session

    def login(self, req):
        body = take(req.body, required=('user', 'password'))
        user, password = body['user'], body['password']
        if not isinstance(user, str) or not user.strip():
            raise ApiError(400, 'enter your account address', 'user')
        if not isinstance(password, str) or not password:
            raise ApiError(400, 'enter your password', 'password')
        try:
            account = self.store.find_account(user.strip())
        except ApiError:
            account = None
        if account is None or account.password != password or account.webadmin == 'none':
            time.sleep(0.3)   # the real server waits longer, as POP does
            raise ApiError(401, 'wrong user name or password')
        token = secrets.token_urlsafe(24)
        session = {'user': account.address, 'role': account.webadmin,
                   'domains': [] if account.webadmin == 'server' else [account.domain.name],
                   'csrf': secrets.token_hex(16), 'last': time.time()}
        self.store.sessions[token] = session
        req.set_cookie = f'postern_session={token}; HttpOnly; SameSite=Strict; Path=/'
        return 200, self.session_answer(session)

    @staticmethod
    def session_answer(session):
        return {k: session[k] for k in ('user', 'role', 'domains', 'csrf')}

    def session_info(self, req):
        return 200, self.session_answer(req.session)

    def logout(self, req):
        self.store.sessions.pop(req.token, None)
        req.set_cookie = 'postern_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0'
        return 204, None

    # --- status and log

    def status(self, req):
        t = time.time()
        return 200, {'version': '0.9.0 (mock)', 'uptime': int(t - self.store.started), 'workers': 1,
                     'connections': {'pop': 40 + int(t) % 17, 'lmtp': int(t / 5) % 4, 'http': len(self.store.sessions)},
                     'domains': len(self.store.domains), 'accounts': self.store.total_accounts(),
                     'queue': len(self.store.queue)}

    def log(self, req):
        q = req.query
        level = q.get('level', '')
        if level and level not in LEVELS:
            raise ApiError(400, f'level must be one of {", ".join(LEVELS)}', 'level')
        lines = int_param(q, 'lines', 200, 1, 1000)
        after = int_param(q, 'after', None, 0, 10 ** 15) if q.get('after') not in (None, '') else None
        return 200, self.store.log.read(lines, q.get('tag', ''), level, after)

    # --- domains

    def domain_list(self, req):
        domains = sorted(self.store.domains.values(), key=lambda d: d.name)
        items = [{'name': d.name, 'accounts': len(d.accounts)} for d in domains if self.may_domain(req.session, d)]
        return 200, paged(items, req.query)

    def domain_create(self, req):
        name = check_name(take(req.body, required=('name',))['name'], 'name', 'the domain name')
        if name in self.store.domains or any(name in d.aliases for d in self.store.domains.values()):
            raise ApiError(409, f'the domain {name} exists already', 'name')
        self.store.add_domain(name)
        return 201, {'name': name}

    def domain_answer(self, domain):
        return {'name': domain.name, 'unified_account': domain.unified_account, 'aliases': list(domain.aliases),
                'bound': list(domain.bound),
                'policies': effective_policies([('server', self.store.server_policies), ('domain', domain.policies)])}

    def domain_get(self, req, name):
        return 200, self.domain_answer(self.domain_for(req.session, name))

    def domain_patch(self, req, name):
        domain = self.domain_for(req.session, name)
        body = take(req.body, optional=('unified_account', 'policies'))
        if 'unified_account' in body:
            value = body['unified_account']
            if value != '':
                value = check_name(value, 'unified_account', 'the unified account')
            if value and value not in domain.accounts:
                raise ApiError(404, f'no account {value} in {domain.name}: create it first', 'unified_account')
        if 'policies' in body:
            apply_policies(domain.policies, body['policies'])
        if 'unified_account' in body:
            domain.unified_account = value
        return 200, self.domain_answer(domain)

    def domain_delete(self, req, name):
        domain = self.store.find_domain(name)
        if domain.accounts:
            raise ApiError(409, f'{domain.name} still has {len(domain.accounts)} accounts: delete them first')
        del self.store.domains[domain.name]
        return 204, None

    def domain_alias_add(self, req, name):
        domain = self.domain_for(req.session, name)
        alias = check_name(take(req.body, required=('alias',))['alias'], 'alias', 'the domain alias')
        if alias in self.store.domains or any(alias in d.aliases for d in self.store.domains.values()):
            raise ApiError(409, f'{alias} is a domain or a domain alias already', 'alias')
        domain.aliases.append(alias)
        return 201, {'alias': alias}

    def domain_alias_del(self, req, name, alias):
        domain = self.domain_for(req.session, name)
        if alias.lower() not in domain.aliases:
            raise ApiError(404, f'{domain.name} has no alias {alias}')
        domain.aliases.remove(alias.lower())
        return 204, None

    def bound_add(self, req, name):
        domain = self.store.find_domain(name)
        address = take(req.body, required=('address',))['address']
        try:
            address = str(ipaddress.ip_address(address))
        except (ValueError, TypeError):
            raise ApiError(400, f'"{address}" is not an IPv4 or IPv6 address', 'address')
        owner = next((d for d in self.store.domains.values() if address in d.bound), None)
        if owner:
            raise ApiError(409, f'{address} is bound to {owner.name} already', 'address')
        domain.bound.append(address)
        return 201, {'address': address}

    def bound_del(self, req, name, address):
        domain = self.store.find_domain(name)
        if address not in domain.bound:
            raise ApiError(404, f'{address} is not bound to {domain.name}')
        domain.bound.remove(address)
        return 204, None

    # --- accounts

    def account_list(self, req, name):
        domain = self.domain_for(req.session, name)
        lo, hi = domain.search(req.query.get('q', ''))
        offset = int_param(req.query, 'offset', 0, 0, 10 ** 9)
        limit = int_param(req.query, 'limit', 100, 1, 500)
        names = domain.sorted_names[lo + offset:min(hi, lo + offset + limit)]
        return 200, {'items': [domain.accounts[n].summary() for n in names], 'total': hi - lo, 'offset': offset}

    def account_create(self, req, name):
        domain = self.domain_for(req.session, name)
        body = take(req.body, required=('name', 'password'), optional=('quota',))
        account_name = check_name(body['name'], 'name', 'the account name')
        password = check_text(body['password'], 'password', 'a password', 1, 1024)
        quota = None
        if body.get('quota') not in (None, '', 'none'):
            quota = parse_size(body['quota'], 'quota')
        if account_name in domain.accounts or any(account_name in a.aliases for a in domain.accounts.values()):
            raise ApiError(409, f'{account_name}@{domain.name} exists already', 'name')
        domain.add(Account(account_name, domain, password, quota=quota))
        return 201, {'address': f'{account_name}@{domain.name}'}

    def account_answer(self, account):
        d = account.summary()
        d.update({'admin': account.admin, 'webadmin': account.webadmin, 'aliases': list(account.aliases),
                  'policies': effective_policies([('server', self.store.server_policies),
                                                  ('domain', account.domain.policies),
                                                  ('account', account.policies)])})
        return d

    def account_get(self, req, address):
        return 200, self.account_answer(self.account_for(req.session, address))

    def account_patch(self, req, address):
        account = self.account_for(req.session, address)
        body = take(req.body, optional=('quota', 'policies', 'webadmin'))
        quota = account.quota
        if 'quota' in body:
            quota = None if body['quota'] in ('none', '') else parse_size(body['quota'], 'quota')
        if 'webadmin' in body:
            if req.session['role'] != 'server':
                raise ApiError(403, 'only a server admin gives the webadmin right', 'webadmin')
            if body['webadmin'] not in ('none', 'domain', 'server'):
                raise ApiError(400, 'webadmin is none, domain or server', 'webadmin')
        if 'policies' in body:
            apply_policies(account.policies, body['policies'])
        account.quota = quota
        if 'webadmin' in body:
            account.webadmin = body['webadmin']
        return 200, self.account_answer(account)

    def account_delete(self, req, address):
        account = self.account_for(req.session, address)
        account.domain.remove(account.name)
        self.store.alerts = [a for a in self.store.alerts if a['account'] != account.address]
        return 204, None

    def account_password(self, req, address):
        account = self.account_for(req.session, address)
        account.password = check_text(take(req.body, required=('password',))['password'],
                                      'password', 'a password', 1, 1024)
        return 204, None

    def account_alias_add(self, req, address):
        account = self.account_for(req.session, address)
        alias = check_name(take(req.body, required=('alias',))['alias'], 'alias', 'the alias')
        domain = account.domain
        if alias in domain.accounts:
            raise ApiError(409, f'{alias}@{domain.name} is an account: an alias cannot have an account\'s name', 'alias')
        if any(alias in a.aliases for a in domain.accounts.values()):
            raise ApiError(409, f'{alias}@{domain.name} is an alias already', 'alias')
        account.aliases.append(alias)
        return 201, {'alias': alias}

    def account_alias_del(self, req, address, alias):
        account = self.account_for(req.session, address)
        if alias.lower() not in account.aliases:
            raise ApiError(404, f'{account.address} has no alias {alias}')
        account.aliases.remove(alias.lower())
        return 204, None

    # --- mailboxes and ACLs

    def mailbox_list(self, req, address):
        boxes = self.account_for(req.session, address).mailboxes()
        items = [{'name': n, 'messages': b['messages'], 'size': b['size']}
                 for n, b in sorted(boxes.items(), key=lambda kv: (kv[0] != 'INBOX', kv[0]))]
        return 200, paged(items, req.query)

    def mailbox_create(self, req, address):
        boxes = self.account_for(req.session, address).mailboxes()
        name = check_mailbox_name(take(req.body, required=('name',))['name'])
        if name in boxes:
            raise ApiError(409, f'the mailbox {name} exists already', 'name')
        boxes[name] = {'messages': 0, 'size': 0, 'acl': {}}
        return 201, {'name': name}

    def mailbox(self, req, address, name):
        account = self.account_for(req.session, address)
        boxes = account.mailboxes()
        if name not in boxes:
            raise ApiError(404, f'{account.address} has no mailbox {name}')
        return account, boxes

    def mailbox_rename(self, req, address, name):
        account, boxes = self.mailbox(req, address, name)
        new = check_mailbox_name(take(req.body, required=('name',))['name'])
        if name == 'INBOX':
            raise ApiError(400, 'INBOX cannot be renamed', 'name')
        if new == name or new.startswith(name + '/'):
            raise ApiError(400, f'{name} cannot be renamed into itself', 'name')
        moving = [n for n in boxes if n == name or n.startswith(name + '/')]
        renamed = {n: new + n[len(name):] for n in moving}
        clash = next((t for t in renamed.values() if t in boxes), None)
        if clash:
            raise ApiError(409, f'the mailbox {clash} exists already', 'name')
        for old, target in renamed.items():
            boxes[target] = boxes.pop(old)
        return 200, {'name': new}

    def mailbox_delete(self, req, address, name):
        account, boxes = self.mailbox(req, address, name)
        if name == 'INBOX':
            raise ApiError(400, 'INBOX cannot be deleted; it goes with its account')
        del boxes[name]
        return 204, None

    def acl_list(self, req, address, name):
        account, boxes = self.mailbox(req, address, name)
        acl = boxes[name]['acl']
        items = [{'identifier': account.address, 'rights': RIGHTS}]
        items += [{'identifier': i, 'rights': r} for i, r in sorted(acl.items())]
        return 200, paged(items, req.query)

    def acl_identifier(self, account, identifier):
        ident = identifier.lower()
        if ident == 'anyone':
            return ident
        local, sep, domain_name = ident.rpartition('@')
        if not sep:
            raise ApiError(400, f'"{identifier}" needs its domain: name@domain, anyone@domain or anyone', 'identifier')
        self.store.find_domain(domain_name, 'identifier')
        if local != 'anyone':
            self.store.find_account(ident, 'identifier')
        if ident == account.address:
            raise ApiError(400, 'the owner has every right and cannot be given an entry', 'identifier')
        return ident

    def acl_set(self, req, address, name, identifier):
        account, boxes = self.mailbox(req, address, name)
        rights = take(req.body, required=('rights',))['rights']
        ident = self.acl_identifier(account, identifier)
        acl = boxes[name]['acl']
        if not isinstance(rights, str):
            raise ApiError(400, 'rights are letters of lrswipcda', 'rights')
        mode, letters = (rights[0], rights[1:]) if rights[:1] in ('+', '-') else ('=', rights)
        bad = next((c for c in letters if c not in RIGHTS), None)
        if bad:
            raise ApiError(400, f'"{bad}" is not a right: use letters of {RIGHTS}', 'rights')
        have = set(acl.get(ident, ''))
        have = have | set(letters) if mode == '+' else have - set(letters) if mode == '-' else set(letters)
        result = ''.join(c for c in RIGHTS if c in have)
        if result:
            acl[ident] = result
        else:
            acl.pop(ident, None)
        return 200, {'identifier': ident, 'rights': result}

    def acl_delete(self, req, address, name, identifier):
        account, boxes = self.mailbox(req, address, name)
        if boxes[name]['acl'].pop(identifier.lower(), None) is None:
            raise ApiError(404, f'{identifier} has no entry on {name}')
        return 204, None

    # --- alerts

    def visible_alert(self, session, alert):
        # mock's choice: a domain admin sees the alerts of their domains and accounts, not the server's
        return session['role'] == 'server' or alert['domain'] in session['domains']

    def alert_list(self, req):
        domain, account = req.query.get('domain'), req.query.get('account')
        items = [a for a in self.store.alerts if self.visible_alert(req.session, a)
                 and (not domain or a['domain'] == domain.lower())
                 and (not account or a['account'] == account.lower())]
        return 200, paged(items, req.query)

    def alert_post(self, req):
        body = take(req.body, required=('text',), optional=('domain', 'account'))
        text = check_text(body['text'], 'text', 'an alert text', 1, 400)
        if body.get('domain') and body.get('account'):
            raise ApiError(400, 'an alert is for a domain or for an account, not both', 'account')
        alert = {'id': self.store.new_id(), 'posted': now_iso(), 'scope': 'server', 'domain': None,
                 'account': None, 'text': text}
        if body.get('account'):
            account = self.account_for(req.session, body['account'], 'account')
            alert.update(scope='account', domain=account.domain.name, account=account.address)
        elif body.get('domain'):
            domain = self.domain_for(req.session, body['domain'], 'domain')
            alert.update(scope='domain', domain=domain.name)
        elif req.session['role'] != 'server':
            raise ApiError(403, 'a domain admin posts alerts for their domains or their accounts only', 'domain')
        self.store.alerts.append(alert)
        return 201, {'id': alert['id']}

    def alert_delete(self, req, alert_id):
        alert = next((a for a in self.store.alerts if str(a['id']) == alert_id), None)
        if alert is None:
            raise ApiError(404, f'no alert {alert_id}')
        if not self.visible_alert(req.session, alert) or (alert['scope'] == 'server' and req.session['role'] != 'server'):
            raise ApiError(403, 'this alert is not one of your domains')
        self.store.alerts.remove(alert)
        return 204, None

    # --- server policies and settings

    def server_get(self, req):
        return 200, {'policies': effective_policies([('server', self.store.server_policies)])}

    def server_patch(self, req):
        apply_policies(self.store.server_policies, take(req.body, required=('policies',))['policies'])
        return self.server_get(req)

    def settings_get(self, req):
        return 200, {'settings': {k: {'value': v, 'runtime': k in self.store.runtime}
                                  for k, v in self.store.settings.items()}}

    def settings_patch(self, req):
        body = req.body or {}
        if not body:
            raise ApiError(400, 'name at least one setting to change')
        checked = {key: check_setting(key, value) for key, value in body.items()}   # all or nothing
        self.store.settings.update(checked)
        self.store.runtime.update(checked)
        return self.settings_get(req)

    # --- the queue

    @staticmethod
    def queue_summary(entry):
        pending = [r for r in entry['recipients'] if r['state'] == 'pending']
        last = next((r['reply'] for r in reversed(pending) if r['reply']), None)
        return {'id': entry['id'], 'created': entry['created'], 'sender': entry['sender'], 'size': entry['size'],
                'pending': len(pending), 'total': len(entry['recipients']),
                'next_attempt': entry['next_attempt'] if pending else None, 'last_error': last}

    def queue_entry(self, entry_id):
        entry = self.store.queue.get(int(entry_id)) if entry_id.isdigit() else None
        if entry is None:
            raise ApiError(404, f'no queue entry {entry_id}')
        return entry

    def queue_list(self, req):
        return 200, paged([self.queue_summary(e) for _, e in sorted(self.store.queue.items())], req.query)

    def queue_get(self, req, entry_id):
        entry = self.queue_entry(entry_id)
        return 200, {**self.queue_summary(entry), **entry}

    def queue_retry(self, req, entry_id):
        entry = self.queue_entry(entry_id)
        if not any(r['state'] == 'pending' for r in entry['recipients']):
            raise ApiError(409, f'queue entry {entry_id} has no pending recipient')   # mock's choice of status
        entry['next_attempt'] = now_iso()
        return 204, None

    def queue_flush(self, req):
        retried = 0
        for entry in self.store.queue.values():
            if any(r['state'] == 'pending' for r in entry['recipients']):
                entry['next_attempt'] = now_iso()
                retried += 1
        return 200, {'retried': retried}

    def queue_delete(self, req, entry_id):
        del self.store.queue[self.queue_entry(entry_id)['id']]
        return 204, None


# ---------------------------------------------------------------- HTTP

class Request:
    def __init__(self, query, body, session, token):
        self.query, self.body, self.session, self.token = query, body, session, token
        self.set_cookie = None


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'postern-mock'
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        self.handle_any('GET')

    def do_POST(self):
        self.handle_any('POST')

    def do_PUT(self):
        self.handle_any('PUT')

    def do_PATCH(self):
        self.handle_any('PATCH')

    def do_DELETE(self):
        self.handle_any('DELETE')

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write('mock: %s\n' % (fmt % args))

    def handle_any(self, method):
        raw_path, _, raw_query = self.path.partition('?')
        if raw_path == '/api' or raw_path.startswith('/api/'):
            self.handle_api(method, raw_path, raw_query)
        elif method == 'GET':
            self.serve_static(raw_path)
        else:
            self.send(405, {'error': 'the pages are only read'}, extra={'Allow': 'GET'})

    def handle_api(self, method, raw_path, raw_query):
        set_cookie = None
        try:
            body = self.read_body()
            segments = [urllib.parse.unquote(s) for s in raw_path.strip('/').split('/')]
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(raw_query, keep_blank_values=True).items()}
            api = self.server.api
            if self.server.delay:
                time.sleep(self.server.delay)
            with self.server.lock:
                handler, captures, auth, server_only = api.dispatch(method, segments)
                token, session = self.find_session()
                if auth and session is None:
                    raise ApiError(401, 'no session, or it expired: log in')
                if auth and method != 'GET' and self.headers.get('X-CSRF-Token') != session['csrf']:
                    raise ApiError(403, 'missing or wrong CSRF token: reload the page')
                if server_only and session['role'] != 'server':
                    raise ApiError(403, 'this is for server admins only')
                req = Request(query, body, session, token)
                status, answer = handler(req, *captures)
                set_cookie = req.set_cookie
        except ApiError as err:
            answer = {'error': err.message}
            if err.field:
                answer['field'] = err.field
            extra = {'Allow': err.allow} if err.allow else {}
            return self.send(err.status, answer, extra=extra)
        except Exception as err:   # a bug in the mock: say so instead of hanging the page
            sys.stderr.write(f'mock: internal error: {err!r}\n')
            return self.send(500, {'error': f'mock internal error: {err}'})
        self.send(status, answer, extra={'Set-Cookie': set_cookie} if set_cookie else {})

    def read_body(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_REQUEST:
            self.close_connection = True
            raise ApiError(413, f'the body is larger than {MAX_REQUEST} octets')
        raw = self.rfile.read(length) if length else b''
        if not raw:
            return None
        if not (self.headers.get('Content-Type') or '').startswith('application/json'):
            raise ApiError(400, 'send JSON, with Content-Type: application/json')
        try:
            body = json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ApiError(400, f'bad JSON: {err}')
        if not isinstance(body, dict):
            raise ApiError(400, 'the body must be a JSON object')
        return body

    def find_session(self):
        cookie = http.cookies.SimpleCookie(self.headers.get('Cookie') or '')
        token = cookie['postern_session'].value if 'postern_session' in cookie else None
        session = self.server.store.sessions.get(token) if token else None
        if session and time.time() - session['last'] > SESSION_IDLE:
            del self.server.store.sessions[token]
            session = None
        if session:
            session['last'] = time.time()
        return token, session

    def serve_static(self, raw_path):
        rel = urllib.parse.unquote(raw_path).lstrip('/') or 'index.html'
        root = self.server.root
        full = os.path.realpath(os.path.join(root, rel))
        kind = STATIC_TYPES.get(os.path.splitext(full)[1])
        if not full.startswith(root + os.sep) or not kind or not os.path.isfile(full):
            return self.send(404, {'error': f'no such page: {raw_path}'})
        with open(full, 'rb') as f:
            data = f.read()
        self.send_raw(200, data, kind, {'Cache-Control': 'no-cache'})

    def send(self, status, answer, extra=None):
        data = b'' if answer is None else json.dumps(answer, ensure_ascii=False).encode('utf-8')
        headers = {'Cache-Control': 'no-store', **(extra or {})}
        self.send_raw(status, data, 'application/json; charset=utf-8' if data else None, headers)

    def send_raw(self, status, data, kind, headers):
        self.send_response(status)
        if kind:
            self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Content-Security-Policy', CSP)
        self.send_header('X-Content-Type-Options', 'nosniff')
        self.send_header('Referrer-Policy', 'no-referrer')
        self.send_header('X-Frame-Options', 'DENY')
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description='MOCK of the Postern web admin API (for the pages only; not the server)')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8010, help='0 picks a free port')
    parser.add_argument('--port-file', help='write the port here once listening')
    parser.add_argument('--root', default=os.path.join(here, '..', '..', 'webadmin'), help='the pages to serve')
    parser.add_argument('--accounts', type=int, default=100_000, help='accounts in big.example')
    parser.add_argument('--delay-ms', type=int, default=0, help='wait this long before each API answer')
    parser.add_argument('--verbose', action='store_true', help='log every request')
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.store = Store(args.accounts)
    server.api = Api(server.store)
    server.lock = threading.Lock()
    server.root = os.path.realpath(args.root)
    server.delay = args.delay_ms / 1000
    server.verbose = args.verbose
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write(f'{port}\n')
        os.replace(args.port_file + '.tmp', args.port_file)
    print(f'MOCK Postern API (not the real server) on http://{args.host}:{port}/ '
          f'- log in as admin@example.com / S3cret-pass', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
