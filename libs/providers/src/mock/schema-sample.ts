/**
 * A deterministic example value for a JSON Schema (pure, no I/O): what the mock provider returns
 * as tool arguments and as `response_format: json_schema` content, so that clients which validate
 * the answer (`chat.completions.parse`, `generateObject`, `withStructuredOutput`) accept it. The
 * fake vendor upstreams in tests reuse it.
 *
 * Supported: `type` (also a list: the first non-null one), `const`, `enum` (first), `properties`
 * (all of them; past a nesting depth of {@link MAX_DEPTH} only the required ones), `required`,
 * `additionalProperties`, `minProperties`, `items`, `prefixItems`, `minItems`/`maxItems`,
 * `uniqueItems`, `minLength`/`maxLength`, `minimum`/`maximum` and their exclusive forms,
 * `multipleOf`, `format` (date, date-time, time, email, uuid, uri/url, hostname, ipv4, ipv6,
 * duration, byte), `anyOf`/`oneOf` (the first branch), `allOf` (merged), `$ref` into the same
 * document (`#`, `#/$defs/…`, `#/definitions/…`), OpenAPI `nullable` (a non-null value is given).
 * `pattern` is best effort: a few common strings are tried and the first that matches is used.
 */

export type JsonSchema = boolean | { [keyword: string]: unknown };

type SchemaObject = { [keyword: string]: unknown };

/** Past this depth objects keep only required properties and arrays only `minItems` items (recursive schemas end). */
export const MAX_DEPTH = 6;

interface Ctx {
  root: JsonSchema;
  depth: number;
  /** Property name the value is for (strings use it: `"mock name"`), if any. */
  key?: string;
  /** Distinguishes sibling items of a `uniqueItems` array. */
  variant: number;
}

/** A value that validates against `schema` (resolved against itself for `$ref`). */
export function sampleFromSchema(schema: JsonSchema | undefined): unknown {
  if (schema === undefined) return {};
  return sample(schema, { root: schema, depth: 0, variant: 0 });
}

function sample(schema: JsonSchema, ctx: Ctx): unknown {
  if (schema === true) return 'mock';
  if (schema === false) return null;
  const s = flatten(schema, ctx.root);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[Math.min(ctx.variant, s.enum.length - 1)];
  switch (typeOf(s)) {
    case 'object':
      return sampleObject(s, ctx);
    case 'array':
      return sampleArray(s, ctx);
    case 'string':
      return sampleString(s, ctx);
    case 'integer':
      return sampleNumber(s, ctx, true);
    case 'number':
      return sampleNumber(s, ctx, false);
    case 'boolean':
      return ctx.variant % 2 === 0;
    case 'null':
      return null;
    default:
      return ctx.key ? `mock ${ctx.key}` : 'mock';
  }
}

/** Resolves `$ref`, merges `allOf` and picks the first `anyOf`/`oneOf` branch, keeping sibling keywords. */
function flatten(schema: SchemaObject, root: JsonSchema, seen = 0): SchemaObject {
  if (seen > 32) return {};
  let s: SchemaObject = schema;
  if (typeof s.$ref === 'string') {
    const { $ref, ...rest } = s;
    const target = resolveRef(root, $ref as string);
    s = merge(typeof target === 'object' ? flatten(target, root, seen + 1) : {}, rest);
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    s = (allOf as JsonSchema[]).reduce<SchemaObject>(
      (acc, part) => merge(acc, typeof part === 'object' ? flatten(part, root, seen + 1) : {}),
      rest,
    );
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = s[keyword];
    if (Array.isArray(branches) && branches.length > 0) {
      const { [keyword]: _dropped, ...rest } = s;
      const first = branches[0] as JsonSchema;
      s = merge(rest, typeof first === 'object' ? flatten(first, root, seen + 1) : {});
    }
  }
  return s;
}

/** Shallow merge of two schemas: properties and required are combined, other keywords: b wins. */
function merge(a: SchemaObject, b: SchemaObject): SchemaObject {
  const out: SchemaObject = { ...a, ...b };
  if (a.properties || b.properties)
    out.properties = { ...(a.properties as object), ...(b.properties as object) };
  if (a.required || b.required)
    out.required = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
  return out;
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node as JsonSchema | undefined;
}

function typeOf(s: SchemaObject): string | undefined {
  const t = s.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return (t.find((x) => x !== 'null') as string | undefined) ?? t[0];
  if (s.properties || s.required || s.additionalProperties !== undefined) return 'object';
  if (s.items || s.prefixItems) return 'array';
  if (s.format || s.pattern || s.minLength !== undefined || s.maxLength !== undefined) return 'string';
  if (s.minimum !== undefined || s.maximum !== undefined || s.multipleOf !== undefined) return 'number';
  return undefined;
}

function sampleObject(s: SchemaObject, ctx: Ctx): Record<string, unknown> {
  const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const out: Record<string, unknown> = {};
  const deep = ctx.depth >= MAX_DEPTH;
  const child = (key: string): Ctx => ({ ...ctx, depth: ctx.depth + 1, key });
  for (const [key, sub] of Object.entries(properties)) {
    if (deep && !required.has(key)) continue;
    out[key] = sample(sub, child(key));
  }
  const extra = s.additionalProperties;
  const extraSchema: JsonSchema =
    typeof extra === 'object' && extra !== null ? (extra as SchemaObject) : true;
  for (const key of required) if (!(key in out)) out[key] = sample(extraSchema, child(key));
  const minProperties = typeof s.minProperties === 'number' ? s.minProperties : 0;
  for (let i = 0; Object.keys(out).length < minProperties && extra !== false; i++) {
    const key = `key${i}`;
    if (!(key in out)) out[key] = sample(extraSchema, child(key));
  }
  return out;
}

function sampleArray(s: SchemaObject, ctx: Ctx): unknown[] {
  const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as JsonSchema[]) : [];
  const items: JsonSchema | undefined =
    Array.isArray(s.items) || s.items === undefined ? undefined : (s.items as JsonSchema);
  const tuple = Array.isArray(s.items) ? (s.items as JsonSchema[]) : prefix;
  const minItems = typeof s.minItems === 'number' ? s.minItems : 0;
  const maxItems = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
  const wanted = ctx.depth >= MAX_DEPTH ? minItems : Math.max(minItems, 1);
  const count = Math.min(maxItems, Math.max(wanted, tuple.length));
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const sub = i < tuple.length ? tuple[i] : (items ?? (s.items === false ? false : true));
    const variant = s.uniqueItems ? i : ctx.variant;
    out.push(sample(sub, { ...ctx, depth: ctx.depth + 1, variant, key: ctx.key }));
  }
  return out;
}

const FORMATS: Record<string, (i: number) => string> = {
  date: (i) => `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
  'date-time': (i) => `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T12:00:00Z`,
  time: (i) => `12:${String(i % 60).padStart(2, '0')}:00Z`,
  email: (i) => `user${i || ''}@example.com`,
  'idn-email': (i) => `user${i || ''}@example.com`,
  uuid: (i) => `123e4567-e89b-42d3-a456-${(426614174000 + i).toString().padStart(12, '0')}`,
  uri: (i) => `https://example.com/${i || ''}`,
  url: (i) => `https://example.com/${i || ''}`,
  iri: (i) => `https://example.com/${i || ''}`,
  'uri-reference': (i) => `/mock/${i}`,
  hostname: (i) => `host${i || ''}.example.com`,
  'idn-hostname': (i) => `host${i || ''}.example.com`,
  ipv4: (i) => `192.0.2.${1 + (i % 254)}`,
  ipv6: (i) => `2001:db8::${(1 + i).toString(16)}`,
  duration: (i) => `P${1 + i}D`,
  byte: () => 'bW9jaw==',
};

/** Candidates tried when a `pattern` rejects the default text. */
const PATTERN_CANDIDATES = ['mock', 'a', 'A', '0', 'abc', 'ABC', '123', 'a1', 'A1', 'mock-1', 'mock_1', 'x'];

function sampleString(s: SchemaObject, ctx: Ctx): string {
  const format = typeof s.format === 'string' ? FORMATS[s.format] : undefined;
  if (format) return format(ctx.variant);
  const base = (ctx.key ? `mock ${ctx.key}` : 'mock') + (ctx.variant ? ` ${ctx.variant}` : '');
  let text = fitLength(base, s);
  if (typeof s.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, 'u');
    } catch {
      re = undefined;
    }
    if (re && !re.test(text)) {
      const hit = PATTERN_CANDIDATES.map((c) => fitLength(c + (ctx.variant || ''), s)).find((c) =>
        re.test(c),
      );
      if (hit !== undefined) text = hit;
    }
  }
  return text;
}

function fitLength(text: string, s: SchemaObject): string {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  let out = text;
  while (Array.from(out).length < min) out += 'x';
  return Array.from(out).slice(0, max).join('');
}

function sampleNumber(s: SchemaObject, ctx: Ctx, integer: boolean): number {
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  // Draft 4 spells exclusive bounds as booleans beside minimum/maximum.
  const exMin = s.exclusiveMinimum === true ? num(s.minimum) : num(s.exclusiveMinimum);
  const exMax = s.exclusiveMaximum === true ? num(s.maximum) : num(s.exclusiveMaximum);
  const min = s.exclusiveMinimum === true ? undefined : num(s.minimum);
  const max = s.exclusiveMaximum === true ? undefined : num(s.maximum);
  const step = num(s.multipleOf) ?? (integer ? 1 : undefined);

  const lower = Math.max(min ?? -Infinity, exMin ?? -Infinity);
  const upper = Math.min(max ?? Infinity, exMax ?? Infinity);
  const okLower = (v: number) => (min === undefined || v >= min) && (exMin === undefined || v > exMin);
  const okUpper = (v: number) => (max === undefined || v <= max) && (exMax === undefined || v < exMax);

  let value = 1 + ctx.variant;
  if (lower > -Infinity && !okLower(value)) value = lower + ctx.variant;
  if (upper < Infinity && !okUpper(value)) value = upper - ctx.variant;
  if (step !== undefined) {
    const snapped = [Math.ceil(value / step) * step, Math.floor(value / step) * step];
    value = snapped.find((v) => okLower(v) && okUpper(v)) ?? snapped[0];
    // Exclusive bounds can land exactly on the bound: step inside.
    if (!okLower(value)) value += step;
    if (!okUpper(value)) value -= step;
  } else if (!okLower(value) || !okUpper(value)) {
    value =
      upper < Infinity && lower > -Infinity ? (lower + upper) / 2 : okLower(value) ? upper - 1 : lower + 1;
  }
  // Floating point: 0.30000000000000004 is not a multiple of 0.1 for most validators.
  return Number(value.toPrecision(12));
}
