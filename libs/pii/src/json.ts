import { actionFor, applyPii, assertPiiMode, summarize } from './operators';
import { PiiError } from './pii.errors';
import type { ApplyOptions, PiiJsonEntity, PiiJsonResult, PiiMode } from './pii.types';

/** Deeper values are refused rather than risking the stack (request bodies are nested far less). */
export const MAX_JSON_DEPTH = 256;

/**
 * Applies `mode` to every string VALUE inside a JSON value. Object keys are left as they are:
 * rewriting keys could merge two keys into one `<EMAIL>`. Numbers are not scanned either (a card
 * stored as a JSON number has already lost its formatting; store it as a string).
 * Returns a new value and never mutates the input; for off/detect/block, and when nothing was
 * found, the input itself is returned. Entities carry an RFC 6901 JSON Pointer to their string.
 */
export function applyPiiToJson(value: unknown, mode: PiiMode, options: ApplyOptions = {}): PiiJsonResult {
  assertPiiMode(mode);
  if (mode === 'off') return { value, entities: [], action: 'off', blocked: false, summary: [] };
  const entities: PiiJsonEntity[] = [];
  const walked = walk(value, '', 0, (text, path) => {
    const result = applyPii(text, mode, options);
    for (const e of result.entities) entities.push({ ...e, path });
    return result.text;
  });
  const summary = summarize(entities);
  if (entities.length === 0) return { value, entities, action: 'none', blocked: false, summary };
  const rewrites = mode === 'redact' || mode === 'mask' || mode === 'hash';
  return {
    value: rewrites ? walked : value,
    entities,
    action: actionFor(mode),
    blocked: mode === 'block',
    summary,
  };
}

type StringVisitor = (text: string, path: string) => string;

function walk(value: unknown, path: string, depth: number, visit: StringVisitor): unknown {
  if (depth > MAX_JSON_DEPTH) {
    throw new PiiError('PII_JSON_TOO_DEEP', `JSON value nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}/${i}`, depth + 1, visit));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty: JSON.parse can produce an own "__proto__" key, and plain assignment of it
    // would change the copy's prototype instead of copying the field.
    Object.defineProperty(out, key, {
      value: walk(item, `${path}/${escapePointer(key)}`, depth + 1, visit),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
