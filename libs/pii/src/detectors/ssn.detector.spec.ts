import { detectSsns } from './ssn.detector';
import { found } from './spec-helpers';

describe('detectSsns', () => {
  it('finds a dashed SSN without context and a spaced or bare one with context', () => {
    expect(found(detectSsns, 'record 536-22-8741 ok')).toEqual(['536-22-8741']);
    expect(found(detectSsns, 'record 536 22 8741 ok')).toEqual([]);
    expect(found(detectSsns, 'SSN 536 22 8741')).toEqual(['536 22 8741']);
    expect(found(detectSsns, 'ssn=536228741')).toEqual(['536228741']);
    expect(found(detectSsns, 'id 536228741')).toEqual([]);
  });

  it.each([
    'SSN 000-12-3456',
    'SSN 666-45-1234',
    'SSN 912-34-5678',
    'SSN 123-00-4567',
    'SSN 123-45-0000',
    'SSN 078-05-1120',
  ])('applies the invalid-range rules: %s', (text) => expect(found(detectSsns, text)).toEqual([]));

  it('ignores look-alikes', () => {
    expect(found(detectSsns, 'Ticket 123-45-6789 escalated')).toEqual([]);
    expect(found(detectSsns, 'mixed 536-22 8741')).toEqual([]);
    expect(found(detectSsns, 'v1.536-22-8741')).toEqual([]);
  });
});
