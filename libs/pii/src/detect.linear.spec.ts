import { mixedPiiText } from '@app/testing';
import { applyPii } from './operators';

const KiB = 1024;

/** Best of `runs` timings of a full redact, in ms per MiB (best-of filters a loaded box's noise). */
function msPerMiB(text: string, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    applyPii(text, 'redact');
    best = Math.min(best, performance.now() - started);
  }
  return best / (text.length / (1024 * KiB));
}

/**
 * Detection is linear in the text length: time per MiB is flat from 64 KiB to 4 MiB. Anything
 * quadratic (a backtracking regex, a context window rescanned per match, repeated slicing) makes
 * the 4 MiB text cost 64 times more per MiB than the 64 KiB one; the bound of 3x leaves room for
 * a shared machine whose load changes between measurements.
 */
describe('detection time is linear in the text length', () => {
  it('mixed PII: time per MiB at 4 MiB is within 3x of 64 KiB', () => {
    applyPii(mixedPiiText(64 * KiB, 9), 'redact'); // warm the JIT
    const small = msPerMiB(mixedPiiText(64 * KiB, 1), 7);
    const large = msPerMiB(mixedPiiText(4096 * KiB, 1), 3);
    process.stdout.write(
      `[pii linear] 64 KiB ${small.toFixed(0)} ms/MiB, 4 MiB ${large.toFixed(0)} ms/MiB\n`,
    );
    expect(large).toBeLessThan(3 * small);
  }, 120_000);

  // Shapes that once cost, or could cost, more than the rest: dense candidates of one type.
  it.each([
    ['single digits', '1 '],
    ['IPv4 addresses', '1.2.3.4 '],
    ['grouped cards', '4242 4242 4242 4242 '],
    ['SSNs', '123-45-6789 '],
    ['emails', 'a@b.co '],
    ['colons', '1:2:3:4:5:6:7:8 '],
    ['birth dates', 'born 1985-03-12 '],
  ])(
    '%s: time per MiB at 1 MiB is within 3x of 128 KiB',
    (_name, unit) => {
      const text = (size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
      applyPii(text(64 * KiB), 'redact');
      const small = msPerMiB(text(128 * KiB), 5);
      const large = msPerMiB(text(1024 * KiB), 3);
      expect(large).toBeLessThan(3 * small);
    },
    60_000,
  );
});
