import { detectIbans } from './iban.detector';
import { found } from './spec-helpers';

describe('detectIbans', () => {
  it.each([
    'GB82 WEST 1234 5698 7654 32',
    'DE89370400440532013000',
    'FR14 2004 1010 0505 0001 3M02 606',
    'NL91 ABNA 0417 1643 00',
    'de89370400440532013000',
  ])('finds %s', (iban) => expect(found(detectIbans, `IBAN ${iban}, thanks`)).toEqual([iban]));

  it('ends at the country length, even when an upper-case word follows', () => {
    expect(found(detectIbans, 'DE89 3704 0044 0532 0130 00 IBAN')).toEqual(['DE89 3704 0044 0532 0130 00']);
  });

  it('finds two IBANs in a row', () => {
    expect(found(detectIbans, 'DE89 3704 0044 0532 0130 00 GB82 WEST 1234 5698 7654 32')).toEqual([
      'DE89 3704 0044 0532 0130 00',
      'GB82 WEST 1234 5698 7654 32',
    ]);
  });

  it.each([
    'GB00 WEST 1234 5698 7654 32',
    'GB82WEST12345698765432X',
    'DE12 3456 7890',
    'VAT DE123456789',
    'AB12CD34EF56GH78IJ90',
  ])('ignores %p', (text) => expect(found(detectIbans, text)).toEqual([]));
});
