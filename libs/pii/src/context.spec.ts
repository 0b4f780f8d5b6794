import { hasContext, scoreWithContext, words } from './context';

describe('context words', () => {
  const phone = words(['phone', 'date of birth']);

  it('matches whole words, case-insensitively, with _ and - as separators', () => {
    expect(phone.test('My PHONE: ')).toBe(true);
    expect(phone.test('user_phone=')).toBe(true);
    expect(phone.test('date_of_birth=')).toBe(true);
    expect(phone.test('date-of-birth ')).toBe(true);
    expect(phone.test('headphones ')).toBe(false);
    expect(phone.test('microphone ')).toBe(false);
  });

  it('looks a few dozen characters before and after, within limits', () => {
    const text = 'phone: 020 7946 0958';
    expect(hasContext(text, 7, 20, phone)).toBe(true);
    expect(hasContext(text, 7, 20, phone, { from: 6 })).toBe(false);
    const far = `phone ${'x'.repeat(80)} 020 7946 0958`;
    expect(hasContext(far, far.length - 13, far.length, phone)).toBe(false);
    expect(hasContext('020 7946 0958 (phone)', 0, 13, phone)).toBe(true);
  });

  it('adds the boost, subtracts the penalty and clamps to 0..1', () => {
    const rule = { positive: phone, negative: words(['order']), boost: 0.2, penalty: 0.45 };
    expect(scoreWithContext('phone 1', { start: 6, end: 7 }, 0.7, rule)).toBe(0.9);
    expect(scoreWithContext('order 1', { start: 6, end: 7 }, 0.7, rule)).toBe(0.25);
    expect(scoreWithContext('phone 1', { start: 6, end: 7 }, 0.95, rule)).toBe(1);
    expect(scoreWithContext('order 1', { start: 6, end: 7 }, 0.3, rule)).toBe(0);
  });
});
