import { hasContext, words } from '../context';
import type { PiiEntity } from '../pii.types';
import { isPlausibleBirthDate } from '../validators';
import { entity, execAll } from './detector';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';

// 1985-03-12 | 12/03/1985, 03-12-1985, 12.03.1985 | 12 March 1985 | March 12, 1985
const ISO = /(?<![\w.\-/])(\d{4})-(\d{2})-(\d{2})(?![\w-]|[./:]\d)/g;
const NUMERIC = /(?<![\w.\-/])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\w-]|[./:]\d)/g;
const DAY_MONTH = new RegExp(`(?<![\\w])${DAY}(?: of)? ${MONTH},? (\\d{4})(?![\\w])`, 'gi');
const MONTH_DAY = new RegExp(`(?<![\\w])${MONTH} ${DAY},? (\\d{4})(?![\\w])`, 'gi');

// Only a birth-date cue makes a date personal: "released 2021-03-04" is not a DOB.
const CUES = words([
  'born',
  'birth',
  'birthday',
  'birthdate',
  'date of birth',
  'dob',
  'd.o.b',
  'b.',
  'geboren',
  'geburtsdatum',
  'né',
  'née',
  'né le',
  'date de naissance',
  'nacido',
  'nacida',
  'fecha de nacimiento',
]);

interface DateSpan {
  start: number;
  end: number;
}

/**
 * Emits a date only when a birth cue is near it AND no other date sits between the cue and it:
 * in "Birthdate 1958-06-01; deceased 2020-01-15" only the first date is a birth date.
 */
export function detectBirthDates(text: string): PiiEntity[] {
  // Cheap gates first: most texts have no birth cue at all.
  if (!/\d{4}/.test(text) || !CUES.test(text)) return [];
  const dates = findDates(text);
  const out: PiiEntity[] = [];
  dates.forEach((d, i) => {
    const limits = { from: dates[i - 1]?.end, to: dates[i + 1]?.start };
    if (hasContext(text, d.start, d.end, CUES, limits))
      out.push(entity('DATE_OF_BIRTH', d.start, d.end, 0.85));
  });
  return out;
}

/** Every plausible calendar date in the text, sorted by position. */
function findDates(text: string): DateSpan[] {
  const dates: DateSpan[] = [];
  const add = (m: RegExpExecArray, ymd: [number, number, number] | null): void => {
    if (ymd && isPlausibleBirthDate(...ymd)) dates.push({ start: m.index, end: m.index + m[0].length });
  };
  for (const m of execAll(ISO, text)) add(m, [+m[1], +m[2], +m[3]]);
  for (const m of execAll(NUMERIC, text)) add(m, numericDate(+m[1], +m[3], +m[4]));
  for (const m of execAll(DAY_MONTH, text)) add(m, [+m[3], monthOf(m[2]), +m[1]]);
  for (const m of execAll(MONTH_DAY, text)) add(m, [+m[3], monthOf(m[1]), +m[2]]);
  return dates.sort((a, b) => a.start - b.start);
}

/** 12/03/1985 is day-first in most of the world, month-first in the US: either reading will do. */
function numericDate(a: number, b: number, year: number): [number, number, number] | null {
  if (isPlausibleBirthDate(year, b, a)) return [year, b, a];
  if (isPlausibleBirthDate(year, a, b)) return [year, a, b];
  return null;
}

function monthOf(name: string): number {
  return MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;
}
