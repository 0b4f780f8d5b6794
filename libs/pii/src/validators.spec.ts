import {
  digitsOf,
  hasCardIssuerPrefix,
  isCreditCardNumber,
  isIban,
  isIbanChecksumValid,
  isIpv4Address,
  isIpv6Address,
  isJwtHeader,
  isLuhnValid,
  isNanpNumber,
  isPlausibleBirthDate,
  isUsSsn,
} from './validators';

describe('isLuhnValid', () => {
  it.each(['4242424242424242', '4111111111111111', '5555555555554444', '378282246310005', '79927398713'])(
    'accepts %s',
    (n) => expect(isLuhnValid(n)).toBe(true),
  );
  it.each(['4242424242424241', '79927398710', '12345', '', '4242a24242424242'])('rejects %p', (n) =>
    expect(isLuhnValid(n)).toBe(false),
  );
});

describe('isCreditCardNumber', () => {
  it('needs Luhn, a known issuer prefix and that issuer length', () => {
    expect(isCreditCardNumber('4242424242424242')).toBe(true);
    expect(isCreditCardNumber('378282246310005')).toBe(true); // Amex, 15
    expect(isCreditCardNumber('2223003122003222')).toBe(true); // Mastercard 2-series
    expect(isCreditCardNumber('37828224631000')).toBe(false); // Amex prefix, wrong length
    expect(isCreditCardNumber('1234567812345670')).toBe(false); // Luhn-valid, no issuer starts with 1
    expect(isCreditCardNumber('0000000000000000')).toBe(false); // placeholder passes Luhn
  });
  it('knows the issuer ranges', () => {
    expect(hasCardIssuerPrefix('6011000000000000')).toBe(true);
    expect(hasCardIssuerPrefix('3530111333300000')).toBe(true);
    expect(hasCardIssuerPrefix('9999999999999999')).toBe(false);
  });
});

describe('IBAN', () => {
  it.each([
    'GB82WEST12345698765432',
    'DE89370400440532013000',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'NO9386011117947',
  ])('accepts %s', (iban) => expect(isIban(iban)).toBe(true));
  it('rejects a wrong check digit, a wrong length and an unknown country', () => {
    expect(isIban('GB83WEST12345698765432')).toBe(false);
    expect(isIban('DE8937040044053201300')).toBe(false);
    expect(isIban('XX82WEST12345698765432')).toBe(false);
    expect(isIbanChecksumValid('gb82west12345698765432')).toBe(false); // callers upper-case first
  });
});

describe('isUsSsn', () => {
  it('accepts an issuable number', () => expect(isUsSsn('536228741')).toBe(true));
  it.each([
    ['000123456', 'area 000'],
    ['666451234', 'area 666'],
    ['912345678', 'area 9xx (ITIN range)'],
    ['123004567', 'group 00'],
    ['123450000', 'serial 0000'],
    ['078051120', 'the Woolworth wallet card'],
    ['111111111', 'one repeated digit'],
    ['12345678', 'eight digits'],
  ])('rejects %s (%s)', (n) => expect(isUsSsn(n)).toBe(false));
});

describe('IP parsing', () => {
  it('parses IPv4 strictly', () => {
    expect(isIpv4Address('203.0.113.42')).toBe(true);
    expect(isIpv4Address('256.1.1.1')).toBe(false);
    expect(isIpv4Address('1.2.3')).toBe(false);
  });
  it('parses IPv6 including compressed and mapped forms, but not bare "::" or hex words', () => {
    for (const ip of [
      '2001:db8::1',
      '::1',
      'fe80::1ff:fe23:4567:890a',
      '::ffff:192.0.2.128',
      '2001:db8:abcd:12::',
    ]) {
      expect(isIpv6Address(ip)).toBe(true);
    }
    for (const s of ['::', 'dead::beef', '12:30:45', '00:1A:2B:3C:4D:5E', '2001:db8::1::2']) {
      expect(isIpv6Address(s)).toBe(false);
    }
  });
});

describe('isNanpNumber', () => {
  it('requires area and exchange to start with 2-9 and not be N11', () => {
    expect(isNanpNumber('4155550132')).toBe(true);
    expect(isNanpNumber('1155550132')).toBe(false);
    expect(isNanpNumber('4150550132')).toBe(false);
    expect(isNanpNumber('9115550132')).toBe(false);
    expect(isNanpNumber('4154110132')).toBe(false);
  });
});

describe('isJwtHeader', () => {
  it('decodes base64url JSON with an alg', () => {
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    expect(isJwtHeader(header)).toBe(true);
    expect(isJwtHeader(Buffer.from('{"typ":"JWT"}').toString('base64url'))).toBe(false);
    expect(isJwtHeader('eyJub3QganNvbg')).toBe(false);
  });
});

describe('isPlausibleBirthDate', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  it('accepts real past dates and leap days only in leap years', () => {
    expect(isPlausibleBirthDate(1985, 3, 12, now)).toBe(true);
    expect(isPlausibleBirthDate(1996, 2, 29, now)).toBe(true);
    expect(isPlausibleBirthDate(1900, 2, 29, now)).toBe(false);
    expect(isPlausibleBirthDate(1985, 4, 31, now)).toBe(false);
    expect(isPlausibleBirthDate(2027, 1, 1, now)).toBe(false);
    expect(isPlausibleBirthDate(1899, 12, 31, now)).toBe(false);
  });
});

it('digitsOf strips everything but digits', () => expect(digitsOf('+44 (0)20-7946')).toBe('440207946'));
