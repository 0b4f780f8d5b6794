/**
 * Canonical JSON (RFC 8785, JCS): object keys sorted by UTF-16 code units, no whitespace,
 * numbers in ECMAScript's shortest round-trip form, strings escaped as `JSON.stringify` does.
 * Hashes computed over it do not depend on key order or on how a database returned a JSON column.
 * Properties whose value is `undefined` are omitted (as in JSON); anything that is not plain JSON
 * (non-finite numbers, bigint, functions, lone surrogates, class instances) is rejected.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$');
}

/** True when `value` has no lone surrogate (`String.prototype.isWellFormed`, ES2024; Node 20+). */
export function isWellFormedString(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is not a finite number`);
      // ES Number::toString is exactly JCS's number form; -0 serialises as 0.
      return JSON.stringify(value);
    case 'string':
      if (!isWellFormedString(value)) throw new TypeError(`canonicalJson: ${path} has a lone surrogate`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: ${path} is a ${typeof value}, not JSON`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => (v === undefined ? 'null' : serialize(v, `${path}[${i}]`))).join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`canonicalJson: ${path} is not a plain object`);
  }
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] === undefined) continue;
    parts.push(`${serialize(key, path)}:${serialize(record[key], `${path}.${key}`)}`);
  }
  return `{${parts.join(',')}}`;
}
