import { truncateSourceIp } from './source-ip';

describe('truncateSourceIp', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['10.1.2.255', '10.1.2.0/24'],
    [' 192.168.0.1 ', '192.168.0.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:0DB8:0001:ffff:1:2:3:4', '2001:db8:1::/48'],
    ['2001:db8::1', '2001:db8::/48'],
    ['[2001:db8:1:2::5]', '2001:db8:1::/48'],
    ['fe80::1%eth0', 'fe80::/48'],
    ['::1', '::/48'],
    ['::', '::/48'],
    ['::ffff:198.51.100.23', '198.51.100.0/24'],
    ['::ffff:c633:6417', '198.51.100.0/24'],
    ['64:ff9b:1::10.0.0.1', '64:ff9b:1::/48'],
  ])('%s → %s', (input, expected) => {
    expect(truncateSourceIp(input)).toBe(expected);
  });

  it.each([
    [''],
    [null],
    [undefined],
    ['not-an-ip'],
    ['999.1.1.1'],
    ['1.2.3'],
    ['2001:db8:::1'],
    ['1.2.3.4:8080'],
  ])('returns null for %p', (input) => {
    expect(truncateSourceIp(input)).toBeNull();
  });
});
