import { scoreWithContext, words, type ContextRule } from '../context';
import type { PiiEntity } from '../pii.types';
import { isIpv4Address, isIpv6Address } from '../validators';
import { entity, execAll } from './detector';

// Dotted quad not inside a longer dotted sequence (OIDs 1.3.6.1.4.1, versions 1.2.3.4.5).
const IPV4 = /(?<![\w.-])(?:\d{1,3}\.){3}\d{1,3}(?![\w-]|\.\d)/g;
// Hex groups with at least two colons; node:net decides. An embedded IPv4 tail is allowed.
const IPV6 =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\w)/g;

// 255.0.0.0 … 255.255.255.255: netmasks and the broadcast address, never a host's address.
const NETMASK =
  /^255\.(?:255\.(?:255\.(?:255|254|252|248|240|224|192|128|0)|(?:254|252|248|240|224|192|128|0)\.0)|(?:254|252|248|240|224|192|128|0)\.0\.0)$/;

const TWO_COLONS = /:[0-9A-Fa-f]{0,4}:/;

const RULE: ContextRule = {
  positive: words([
    'ip',
    'ips',
    'ipv4',
    'ipv6',
    'ip address',
    'address',
    'addr',
    'host',
    'server',
    'client',
    'remote',
    'from',
    'connect',
    'connected',
    'ping',
    'gateway',
    'dns',
    'subnet',
    'source',
    'src',
    'dst',
    'login',
  ]),
  negative: words([
    'version',
    'ver',
    'build',
    'release',
    'firmware',
    'oid',
    'section',
    'chapter',
    'figure',
    'table',
    'clause',
    'step',
    'rule',
    'page',
    'sdk',
    'package',
    'semver',
    'upgrade',
    'upgraded',
    'changelog',
    'tag',
  ]),
  boost: 0.15,
  penalty: 0.5,
};

export function detectIpAddresses(text: string): PiiEntity[] {
  const out: PiiEntity[] = [];
  if (text.includes('.')) {
    for (const m of execAll(IPV4, text)) {
      if (isIpv4Address(m[0]) && !NETMASK.test(m[0])) push(out, text, m.index, m.index + m[0].length, 0.8);
    }
  }
  // Any IPv6 address has two colons at most four hex digits apart; prose colons rarely do.
  if (TWO_COLONS.test(text)) {
    for (const m of execAll(IPV6, text)) {
      if (isIpv6Address(m[0])) push(out, text, m.index, m.index + m[0].length, 0.85);
    }
  }
  return out;
}

function push(out: PiiEntity[], text: string, start: number, end: number, base: number): void {
  out.push(entity('IP_ADDRESS', start, end, scoreWithContext(text, { start, end }, base, RULE)));
}
