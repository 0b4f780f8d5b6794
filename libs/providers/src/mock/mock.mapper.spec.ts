import { wordsIn } from './mock.mapper';

/** What the mock used to compute: split on \s+, empty strings dropped. */
const reference = (text: string) => text.split(/\s+/).filter(Boolean);

describe('wordsIn (the mock reply counts the words of a prompt without splitting it)', () => {
  it('agrees with split(/\\s+/) on count and first words, whatever the whitespace', () => {
    const pieces = [
      'a',
      'bc',
      ' ',
      '  ',
      '\t',
      '\n',
      '\u00a0',
      '\u2003',
      '\u3000',
      'é',
      '日本',
      '\ufeff',
      ',',
      'x.y',
    ];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let t = 0; t < 300; t++) {
      const text = Array.from({ length: next() % 40 }, () => pieces[next() % pieces.length]).join('');
      const words = reference(text);
      expect(wordsIn(text, 12)).toEqual({ count: words.length, first: words.slice(0, 12) });
    }
  });

  it('keeps only the first words of a long text', () => {
    const text = Array.from({ length: 150_000 }, (_, i) => `w${i}`).join(' ');
    const { count, first } = wordsIn(text, 3);
    expect([count, first]).toEqual([150_000, ['w0', 'w1', 'w2']]);
  });
});
