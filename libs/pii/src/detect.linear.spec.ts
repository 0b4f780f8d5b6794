import { mixedPiiText } from '@app/testing';
import { applyPii } from './operators';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * CPU milliseconds per MiB of a full redact, best of `rounds`. Each round redacts the same total
 * volume (`volume` bytes: one large text, or a small text as many times as it takes), so the two
 * sides of a comparison run for about as long as each other and long enough for the clock.
 * Process CPU time, not wall time: on a shared 2-core CI box the wall clock also counts the time
 * this worker waits for a core, which once made a 3 ms measurement look like 660 ms.
 */
function cpuMsPerMiB(text: string, volume: number, rounds: number): number {
  const repeats = Math.max(1, Math.round(volume / text.length));
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const started = process.cpuUsage();
    for (let i = 0; i < repeats; i++) applyPii(text, 'redact');
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best / ((text.length * repeats) / MiB);
}

/**
 * Detection is linear in the text length: time per MiB is flat from 64 KiB to 4 MiB. Anything
 * quadratic (a backtracking regex, a context window rescanned per match, repeated slicing) makes
 * a text 16 times longer cost 16 times more per MiB (64 times for 64 KiB against 4 MiB); the
 * bound of 4x sits far below that and far above what GC and a busy machine add to a linear scan.
 */
describe('detection time is linear in the text length', () => {
  it('mixed PII: time per MiB at 4 MiB is within 4x of 64 KiB', () => {
    applyPii(mixedPiiText(64 * KiB, 9), 'redact'); // warm the JIT
    const small = cpuMsPerMiB(mixedPiiText(64 * KiB, 1), 4 * MiB, 3);
    // The sizes between are printed for the record (the closing notes quote the whole curve).
    const between = [256, 1024].map(
      (kib) => `${kib} KiB ${cpuMsPerMiB(mixedPiiText(kib * KiB, 1), 4 * MiB, 1).toFixed(0)}`,
    );
    const large = cpuMsPerMiB(mixedPiiText(4 * MiB, 1), 4 * MiB, 3);
    process.stdout.write(
      `[pii linear] CPU ms/MiB: 64 KiB ${small.toFixed(0)}, ${between.join(', ')}, 4096 KiB ${large.toFixed(0)}\n`,
    );
    expect(large).toBeLessThan(4 * small);
  }, 180_000);

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
    '%s: time per MiB at 1 MiB is within 4x of 64 KiB',
    (_name, unit) => {
      const text = (size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
      applyPii(text(64 * KiB), 'redact');
      const small = cpuMsPerMiB(text(64 * KiB), MiB, 3);
      const large = cpuMsPerMiB(text(MiB), MiB, 3);
      expect(large).toBeLessThan(4 * small);
    },
    90_000,
  );
});
