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

  it('stops before a following number and finds two cards in a row', () => {
    expect(found(detectCreditCards, 'card 4242 4242 4242 4242 1227')).toEqual(['4242 4242 4242 4242']);
    expect(found(detectCreditCards, '4242 4242 4242 4242 5555 5555 5555 4444')).toEqual([
      '4242 4242 4242 4242',
      '5555 5555 5555 4444',
    ]);
  });

  it.each([
    'bad Luhn 4242 4242 4242 4241',
    'mixed separators 4242-4242 4242-4242',
    'placeholder 0000 0000 0000 0000',
    'id 1234567812345670',
    'the ICCID 8944 1234 5678 9012 345',
    'version 4242.4242.4242.4242',
  ])('ignores %p', (text) => expect(found(detectCreditCards, text)).toEqual([]));

  it('an identifier word outweighs a valid checksum', () => {
    expect(found(detectCreditCards, 'Batch id 4532 0151 1283 0366')).toEqual([]);
    expect(found(detectCreditCards, 'Visa 4532 0151 1283 0366')).toEqual(['4532 0151 1283 0366']);
  });
});
