import { isIPv4, isIPv6 } from 'node:net';

/**
 * Truncates a client address before it is stored: IPv4 to its /24 (`203.0.113.0/24`), IPv6 to
 * its /48 (`2001:db8:1::/48`), enough for abuse analysis without identifying a person.
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as IPv4. Brackets and zone ids are ignored.
 * Returns null for anything that is not an IP address.
 */
export function truncateSourceIp(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let ip = raw.trim();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  if (isIPv4(ip)) return truncateV4(ip);
  if (!isIPv6(ip)) return null;
  const groups = expandV6(ip);
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped)
    return truncateV4(`${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`);
  const kept = groups.slice(0, 3);
  while (kept.length && kept[kept.length - 1] === 0) kept.pop();
  return `${kept.map((g) => g.toString(16)).join(':')}::/48`;
}

/** A valid dotted IPv4 (`isIPv4` admits no leading zeros) to its /24. */
function truncateV4(ip: string): string {
  return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
}

/** Eight 16-bit groups of a valid IPv6 address (handles `::` and a trailing dotted IPv4). */
function expandV6(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}
