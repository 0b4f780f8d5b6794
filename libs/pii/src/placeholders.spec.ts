import { applyPii } from './operators';
import { searchableWithoutPlaceholders } from './placeholders';

describe('searchableWithoutPlaceholders', () => {
  it('drops redaction placeholders of every type and keeps the words around them', () => {
    const redacted = applyPii(
      'mail a@example.com, call 415-555-0132, card 4242 4242 4242 4242',
      'redact',
    ).text;
    expect(redacted).toBe('mail <EMAIL>, call <PHONE>, card <CREDIT_CARD>');
    expect(searchableWithoutPlaceholders(redacted).split(/\W+/).filter(Boolean)).toEqual([
      'mail',
      'call',
      'card',
    ]);
  });

  it('reduces a hash placeholder to its digest, as its own word', () => {
    const key = Buffer.alloc(32, 7);
    const hashed = applyPii('x a@example.com', 'hash', { hmacKey: key }).text;
    const digest = /<EMAIL:([0-9a-f]{16})>/.exec(hashed)![1];
    expect(searchableWithoutPlaceholders(`${hashed}y`)).toBe(`x  ${digest} y`);
  });

  it('leaves anything that only looks like a placeholder', () => {
    for (const text of ['<email>', '<NAME>', '<EMAIL:xyz>', '<EMAIL:3F9A1C2B7D4E5F60>', 'a < b > c']) {
      expect(searchableWithoutPlaceholders(text)).toBe(text);
    }
  });
});
