import { detectIpAddresses } from './ip.detector';
import { found } from './spec-helpers';

describe('detectIpAddresses', () => {
  it.each([
    '203.0.113.42',
    '10.0.0.5',
    '2001:db8::1',
    '::1',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    'fe80::1ff:fe23:4567:890a',
    '::ffff:192.0.2.128',
    '2001:db8:abcd:12::',
  ])('finds %s', (ip) => expect(found(detectIpAddresses, `from ${ip} today`)).toEqual([ip]));

  it('finds an address in brackets or with a port', () => {
    expect(found(detectIpAddresses, 'https://[2001:db8::42]:443/')).toEqual(['2001:db8::42']);
    expect(found(detectIpAddresses, 'curl http://10.20.30.40:8080/health')).toEqual(['10.20.30.40']);
  });

  it.each([
    'Upgrade to version 1.2.3.4',
    'OID 1.3.6.1.4.1.311',
    'build 10.0.19045.3693',
    'bad 999.999.999.999',
    'MAC 00:1A:2B:3C:4D:5E',
    'at 12:30:45 sharp',
    'std::vector and dead::beef',
    'subnet mask 255.255.255.0',
    'v1.2.3.4',
  ])('ignores %p', (text) => expect(found(detectIpAddresses, text)).toEqual([]));
});
