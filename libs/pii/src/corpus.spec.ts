import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateCorpus, parseCorpus, type EvaluationRow } from './evaluate';
import type { PiiEntityType } from './pii.types';

/** The structured types the issue sets a ≥ 0.95 precision and recall target for. */
const STRUCTURED: PiiEntityType[] = [
  'EMAIL',
  'PHONE',
  'CREDIT_CARD',
  'US_SSN',
  'IBAN',
  'IP_ADDRESS',
  'SECRET',
];
const TARGET = 0.95;

describe('labelled corpus (corpus/corpus.jsonl)', () => {
  const lines = parseCorpus(readFileSync(join(__dirname, '..', 'corpus', 'corpus.jsonl'), 'utf8'));
  const { rows } = evaluateCorpus(lines);
  const row = (type: PiiEntityType): EvaluationRow => rows.find((r) => r.type === type)!;

  it('is big enough to mean something: hundreds of lines, hard negatives, every type labelled', () => {
    expect(lines.length).toBeGreaterThanOrEqual(500);
    expect(lines.filter((l) => (l.expected ?? l.entities ?? []).length === 0).length).toBeGreaterThanOrEqual(
      150,
    );
    for (const type of STRUCTURED) expect(row(type).expected).toBeGreaterThanOrEqual(40);
    expect(row('DATE_OF_BIRTH').expected).toBeGreaterThanOrEqual(20);
  });

  it.each(STRUCTURED)(`%s reaches precision and recall ≥ ${TARGET}`, (type) => {
    const r = row(type);
    expect(r.precision).not.toBeNull();
    expect(r.precision!).toBeGreaterThanOrEqual(TARGET);
    expect(r.recall!).toBeGreaterThanOrEqual(TARGET);
  });
});
