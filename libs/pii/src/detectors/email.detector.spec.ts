import { detectEmails } from './email.detector';
import { found } from './spec-helpers';

describe('detectEmails', () => {
  it.each([
    ['mail john.doe@example.com now', 'john.doe@example.com'],
    ['<olivia.brown+tag@mail.example.co.uk>', 'olivia.brown+tag@mail.example.co.uk'],
    ["write to o'brien@example.ie.", "o'brien@example.ie"],
    ['CAPS: BOB@EXAMPLE.NET', 'BOB@EXAMPLE.NET'],
    ['mailto:hello@example.studio', 'hello@example.studio'],
  ])('finds the address in %p', (text, email) => expect(found(detectEmails, text)).toEqual([email]));

  it('reports offsets into the original string', () => {
    const text = 'a 😀 x@example.com';
    const [e] = detectEmails(text);
    expect(text.slice(e.start, e.end)).toBe('x@example.com');
    expect(e).toMatchObject({ type: 'EMAIL', start: 5, end: 18 });
  });

  it.each([
    'icon@2x.png and hero@1.5x.webp',
    'npm i lodash@4.17.21',
    'git clone git@github.com:acme/widgets.git',
    'user@localhost',
    '@nestjs/core and @Injectable()',
    'foo@bar',
    'https://__token__:s3cr3t@registry.example.com/simple',
  ])('ignores %p', (text) => expect(found(detectEmails, text)).toEqual([]));

  it('scores higher with a context word', () => {
    const [plain] = detectEmails('x a@example.com');
    const [boosted] = detectEmails('email: a@example.com');
    expect(boosted.score).toBeGreaterThan(plain.score);
  });
});
