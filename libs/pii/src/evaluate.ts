import { detectPii } from './detect';
import { PII_ENTITY_TYPES, type DetectOptions, type PiiEntity, type PiiEntityType } from './pii.types';

/**
 * One labelled corpus line. Either give offsets (`entities`) or the literal values (`expected`):
 * each value is located in `text` left to right, so a value present twice is listed twice.
 * A line with neither (or empty lists) is a negative: nothing must be found in it.
 */
export interface CorpusLine {
  text: string;
  entities?: { type: PiiEntityType; start: number; end: number }[];
  expected?: { type: PiiEntityType; value: string }[];
  /** Free-form label for humans (e.g. "hard negative: version string"). */
  note?: string;
}

export interface EvaluationRow {
  type: PiiEntityType;
  expected: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Matches whose offsets are exactly the labelled ones. */
  exact: number;
  /** null when nothing was predicted / expected for the type. */
  precision: number | null;
  recall: number | null;
}

export interface EvaluationError {
  kind: 'false_positive' | 'false_negative';
  line: number;
  type: PiiEntityType;
  value: string;
}

export interface Evaluation {
  rows: EvaluationRow[];
  errors: EvaluationError[];
  lines: number;
}

type Span = { type: PiiEntityType; start: number; end: number };

/** Labelled spans of a line; throws when an `expected` value is not in the text (a corpus bug). */
export function labelledSpans(line: CorpusLine, index = 0): Span[] {
  if (line.entities) return line.entities;
  const cursors = new Map<string, number>();
  return (line.expected ?? []).map(({ type, value }) => {
    const start = line.text.indexOf(value, cursors.get(value) ?? 0);
    if (start < 0) throw new Error(`corpus line ${index + 1}: "${value}" not found in its text`);
    cursors.set(value, start + value.length);
    return { type, start, end: start + value.length };
  });
}

/**
 * A prediction matches a label of the same type when their overlap covers at least half of
 * each: boundaries may differ by a bracket or a "+1 " prefix, not by half the value.
 */
function matches(p: Span, l: Span): boolean {
  if (p.type !== l.type) return false;
  const overlap = Math.min(p.end, l.end) - Math.max(p.start, l.start);
  return overlap * 2 >= p.end - p.start && overlap * 2 >= l.end - l.start;
}

/** Runs detectPii over each line and scores it per entity type. */
export function evaluateCorpus(lines: readonly CorpusLine[], options: DetectOptions = {}): Evaluation {
  const counts = new Map(PII_ENTITY_TYPES.map((t) => [t, { expected: 0, tp: 0, fp: 0, fn: 0, exact: 0 }]));
  const errors: EvaluationError[] = [];
  lines.forEach((line, index) => {
    const labels = labelledSpans(line, index);
    const predicted: PiiEntity[] = detectPii(line.text, options);
    const used = new Set<number>();
    for (const l of labels) {
      const c = counts.get(l.type)!;
      c.expected++;
      const hit = predicted.findIndex((p, i) => !used.has(i) && matches(p, l));
      if (hit < 0) {
        c.fn++;
        errors.push({
          kind: 'false_negative',
          line: index + 1,
          type: l.type,
          value: line.text.slice(l.start, l.end),
        });
        continue;
      }
      used.add(hit);
      c.tp++;
      if (predicted[hit].start === l.start && predicted[hit].end === l.end) c.exact++;
    }
    predicted.forEach((p, i) => {
      if (used.has(i)) return;
      counts.get(p.type)!.fp++;
      errors.push({
        kind: 'false_positive',
        line: index + 1,
        type: p.type,
        value: line.text.slice(p.start, p.end),
      });
    });
  });
  const rows = PII_ENTITY_TYPES.map((type) => {
    const c = counts.get(type)!;
    return {
      type,
      expected: c.expected,
      truePositives: c.tp,
      falsePositives: c.fp,
      falseNegatives: c.fn,
      exact: c.exact,
      precision: c.tp + c.fp === 0 ? null : c.tp / (c.tp + c.fp),
      recall: c.expected === 0 ? null : c.tp / c.expected,
    };
  });
  return { rows, errors, lines: lines.length };
}

/** A Markdown table, as pasted into the README. */
export function formatEvaluationTable(rows: readonly EvaluationRow[]): string {
  const fmt = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(3));
  const header = [
    '| type | labelled | TP | FP | FN | precision | recall | exact offsets |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const body = rows.map(
    (r) =>
      `| ${r.type} | ${r.expected} | ${r.truePositives} | ${r.falsePositives} | ${r.falseNegatives} | ` +
      `${fmt(r.precision)} | ${fmt(r.recall)} | ${r.exact}/${r.truePositives} |`,
  );
  return [...header, ...body].join('\n');
}

/** Parses JSONL text (blank lines ignored) into corpus lines. */
export function parseCorpus(jsonl: string): CorpusLine[] {
  const out: CorpusLine[] = [];
  jsonl.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      out.push(JSON.parse(l) as CorpusLine);
    } catch {
      throw new Error(`corpus line ${i + 1} is not valid JSON`);
    }
  });
  return out;
}
