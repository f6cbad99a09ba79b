// How numbers, sizes and times read on the pages.

const numberFormat = new Intl.NumberFormat('en');

export function count(n) {
  return Number.isFinite(n) ? numberFormat.format(n) : '–';
}

/** Octets as people read them (binary units, as the config's 10M). */
export function bytes(n) {
  if (typeof n === 'string') return n;
  if (!Number.isFinite(n)) return '–';
  const units = ['octets', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A quota: octets, a size text such as "500M", or none (null, "none", 0). */
export function quota(q) {
  if (q === null || q === undefined || q === 'none' || q === '' || q === 0) return 'none';
  return bytes(q);
}

/** Seconds as "3d 4h", "5h 12m", "4m 10s". */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.floor(seconds));
  const parts = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  const out = [];
  let rest = s;
  for (const [size, unit] of parts) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (unit === 's' && out.length === 0)) out.push(`${n}${unit}`);
    if (out.length === 2) break;
  }
  return out.join(' ');
}

/** A time from the API: ISO 8601 text or seconds since 1970; shown in local time. */
export function time(value) {
  const date = toDate(value);
  if (!date) return value === null || value === undefined ? '–' : String(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
       + `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function toDate(value) {
  if (typeof value === 'number') return new Date(value * 1000);
  if (typeof value === 'string' && value) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : new Date(ms);
  }
  return null;
}

/** "in 4m", "now", "5m ago" relative to the present. */
export function relative(value) {
  const date = toDate(value);
  if (!date) return value === null || value === undefined ? '–' : String(value);
  const diff = (date.getTime() - Date.now()) / 1000;
  if (Math.abs(diff) < 30) return 'now';
  return diff > 0 ? `in ${duration(diff)}` : `${duration(-diff)} ago`;
}
