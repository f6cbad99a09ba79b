// The addresses of the pages (hash routes), with names encoded as one segment each.

export const href = {
  dashboard: () => '#/',
  domains: () => '#/domains',
  domain: (name) => `#/domains/${encodeURIComponent(name)}`,
  account: (address) => `#/accounts/${encodeURIComponent(address)}`,
  alerts: () => '#/alerts',
};

/** The domain part of an address (after the last @). */
export function domainOf(address) {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1) : '';
}
