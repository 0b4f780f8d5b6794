import { detectPhones } from './phone.detector';
import { found } from './spec-helpers';

describe('detectPhones', () => {
  it.each([
    '+44 20 7946 0958',
    '(415) 555-0132',
    '415.555.0132',
    '415-555-0132',
    '+49 30 901820',
    '+49 (0)89 12345678',
    '1-800-555-0199',
    '+1 (212) 555-0187',
    '+33 1 23 45 67 89',
    '+14155550132',
    '020 7946 0321',
    '07700 900123',
    '(02) 9876 5432',
    '06 12 34 56 78',
    '0049 30 901820',
    '0044 20 7946 0958',
  ])('finds %s', (phone) => expect(found(detectPhones, `call ${phone} today`)).toEqual([phone]));

  it('needs a context word for bare digit runs', () => {
    expect(found(detectPhones, 'value 4155550148 here')).toEqual([]);
    expect(found(detectPhones, 'contact number 4155550148')).toEqual(['4155550148']);
  });

  it('keeps the phone when a year follows it', () => {
    expect(found(detectPhones, 'call +44 20 7946 0958 2024')).toEqual(['+44 20 7946 0958']);
  });

  it.each([
    'Order #415-555-0132-XL shipped',
    'Model XR-415-555-0132 replaces it',
    'ISBN 0-306-40615-2',
    'Card 4990 0230 7094 9804 fails',
    'numbers 04 15 23 42 08 16 drawn',
    'SSN 078-05-1120',
    'Invoice 2024-000123 paid on 2024-05-06',
    'Date range 01.02.2024 - 28.02.2024',
    'Timestamp 1714003200',
    'area 115-555-0132 is not NANP',
    'account 0012345678901',
  ])('ignores %p', (text) => expect(found(detectPhones, text)).toEqual([]));

  it('penalises identifier words', () => {
    expect(found(detectPhones, 'Part no. 800-555-0199 is out')).toEqual([]);
    expect(found(detectPhones, 'Ticket 312-555-0165 closed')).toEqual([]);
  });
});
