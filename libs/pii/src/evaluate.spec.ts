import {
  evaluateCorpus,
  formatEvaluationTable,
  labelledSpans,
  parseCorpus,
  type CorpusLine,
} from './evaluate';

describe('evaluateCorpus', () => {
  const lines: CorpusLine[] = [
    { text: 'mail a@example.com and b@example.com', expected: [{ type: 'EMAIL', value: 'a@example.com' }] },
    { text: 'call (415) 555-0132', entities: [{ type: 'PHONE', start: 5, end: 19 }] },
    { text: 'record 536 22 8741 without a cue', expected: [{ type: 'US_SSN', value: '536 22 8741' }] },
    { text: 'nothing here' },
  ];

  it('counts true positives, false positives and false negatives per type', () => {
    const { rows, errors } = evaluateCorpus(lines);
    const byType = Object.fromEntries(rows.map((r) => [r.type, r]));
    expect(byType.EMAIL).toMatchObject({
      expected: 1,
      truePositives: 1,
      falsePositives: 1,
      precision: 0.5,
      recall: 1,
    });
    expect(byType.PHONE).toMatchObject({
      expected: 1,
      truePositives: 1,
      falsePositives: 0,
      exact: 1,
      recall: 1,
    });
    expect(byType.US_SSN).toMatchObject({
      expected: 1,
      truePositives: 0,
      falseNegatives: 1,
      precision: null,
      recall: 0,
    });
    expect(errors).toEqual([
      { kind: 'false_positive', line: 1, type: 'EMAIL', value: 'b@example.com' },
      { kind: 'false_negative', line: 3, type: 'US_SSN', value: '536 22 8741' },
    ]);
  });

  it('locates repeated values left to right and fails loudly on a missing one', () => {
    const line: CorpusLine = {
      text: 'x@example.com then x@example.com',
      expected: [
        { type: 'EMAIL', value: 'x@example.com' },
        { type: 'EMAIL', value: 'x@example.com' },
      ],
    };
    expect(labelledSpans(line).map((s) => s.start)).toEqual([0, 19]);
    expect(() => labelledSpans({ text: 'abc', expected: [{ type: 'EMAIL', value: 'zz' }] })).toThrow(
      /not found/,
    );
  });

  it('formats a Markdown table and parses JSONL', () => {
    const table = formatEvaluationTable(evaluateCorpus(lines).rows);
    expect(table).toContain('| EMAIL | 1 | 1 | 1 | 0 | 0.500 | 1.000 | 1/1 |');
    expect(parseCorpus('{"text":"a"}\n\n{"text":"b"}\n')).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect(() => parseCorpus('{"text":')).toThrow(/line 1/);
  });
});
