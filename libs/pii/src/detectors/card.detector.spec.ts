import { detectCreditCards } from './card.detector';
import { found } from './spec-helpers';

describe('detectCreditCards', () => {
  it.each([
    '4242 4242 4242 4242',
    '4111-1111-1111-1111',
    '5555555555554444',
    '3782 822463 10005',
    '6011 1111 1111 1117',
  ])('finds %s', (card) => expect(found(detectCreditCards, `pay with ${card} now`)).toEqual([card]));

  // Every major network and length, grouped the ways people write them.
  it.each([
    ['Visa 13', '4222222222222'],
    ['Visa 19', '4111 1111 1111 1111 003'],
    ['Mastercard 2-series', '2223 0031 2200 3222'],
    ['Amex dots', '3714.496353.98431'],
    ['Discover 644', '6445 6445 6445 6445'],
    ['Diners 14', '3056 930902 5904'],
    ['Diners 36', '36227206271667'],
    ['JCB', '3566-0020-2036-0505'],
    ['UnionPay 19', '6212 3456 7890 1234 569'],
    ['UnionPay 16', '6200000000000005'],
    ['Maestro 12', '6759 6498 2648'],
    ['Maestro 19', '6759649826438453003'],
    ['dots', '4111.1111.1111.1111'],
    ['no-break spaces', '4111\u00a01111\u00a01111\u00a01111'],
  ])('finds %s: %s', (_name, card) => expect(found(detectCreditCards, `card ${card} ok`)).toEqual([card]));

  it.each([
    ['card:4111111111111111.', '4111111111111111'],
    ['(5555-5555-5555-4444)', '5555-5555-5555-4444'],
    ['"pan":"4111111111111111"', '4111111111111111'],
    ['cc#4242424242424242;', '4242424242424242'],
    ['Smith,4111111111111111,12/27', '4111111111111111'],
    ['1001,4111111111111111,12/27', '4111111111111111'],
    ['card=4111111111111111&exp=1227', '4111111111111111'],
    ['4111111111111111/12/27', '4111111111111111'],
    ['card no.4111 1111 1111 1111', '4111 1111 1111 1111'],
    ['VISA-4111111111111111', '4111111111111111'],
    ['[4111-1111-1111-1111]', '4111-1111-1111-1111'],
    ['<4111 1111 1111 1111>', '4111 1111 1111 1111'],
    ['pan: 4111111111111111!', '4111111111111111'],
  ])('finds the card next to punctuation in %p', (text, card) =>
    expect(found(detectCreditCards, text)).toEqual([card]),
  );

  it('stops before a following number and finds two cards in a row', () => {
    expect(found(detectCreditCards, 'card 4242 4242 4242 4242 1227')).toEqual(['4242 4242 4242 4242']);
    expect(found(detectCreditCards, '4242 4242 4242 4242 5555 5555 5555 4444')).toEqual([
      '4242 4242 4242 4242',
      '5555 5555 5555 4444',
    ]);
    expect(found(detectCreditCards, '4111.1111.1111.1111.12.27')).toEqual(['4111.1111.1111.1111']);
  });

  it.each([
    'bad Luhn 4242 4242 4242 4241',
    'mixed separators 4242-4242 4242-4242',
    'placeholder 0000 0000 0000 0000',
    'id 1234567812345670',
    'the ICCID 8944 1234 5678 9012 345',
    'version 4242.4242.4242.4242',
    'float 0.4532015112830366',
    'suffix 4532015112830366-2',
    'path /users/4532015112830366/cards',
    'hash a4532015112830366b',
    'digits 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1',
    'order number 4532-0151-1283-0366',
    'tracking 4111 1111 1111 1111 shipped',
    'epoch ms 1715012345678, ns 1715012345678901234',
    'the IMEI 4901 5420 3237 518',
  ])('ignores %p', (text) => expect(found(detectCreditCards, text)).toEqual([]));

  it('an identifier word outweighs a valid checksum', () => {
    expect(found(detectCreditCards, 'Batch id 4532 0151 1283 0366')).toEqual([]);
    expect(found(detectCreditCards, 'Visa 4532 0151 1283 0366')).toEqual(['4532 0151 1283 0366']);
  });
});
