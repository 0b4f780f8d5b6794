import type { JsonValue } from './fake-upstream.types';

/**
 * What a real model does with a request's tools and output schema, done deterministically for
 * the fake upstreams: each vendor's fake reads the tools, the tool choice and the JSON schema
 * from the request in its own wire format (`FakeVendorWire.intent`), and this answers with a
 * tool call or a JSON text that validates against the schema. Clients that parse and validate answers (the openai SDK's `parse`,
 * LangChain's `withStructuredOutput`, the AI SDK's `generateObject`) then work end to end.
 */

export type Schema = Record<string, JsonValue>;

export interface RequestIntent {
  tools: { name: string; schema: Schema }[];
  /** `none`, `auto`, `required` (any tool), or one named tool. */
  choice: 'none' | 'auto' | 'required' | { name: string };
  /** The conversation ends with a tool result: a model answers in words then. */
  afterToolResult: boolean;
  /** `response_format` json_schema (or its vendor equivalent), or `{}` for json_object. */
  jsonSchema: Schema | null;
}

export const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The answer a schema-following model gives: a call of the chosen tool (under `auto`, the first
 * tool, unless the conversation ends with a tool result), else JSON text for an output schema,
 * else nothing (the caller's default text).
 */
export function schemaAnswer(
  intent: RequestIntent,
): { toolCall: { name: string; arguments: Record<string, unknown> } } | { text: string } | null {
  if (intent.tools.length && intent.choice !== 'none' && !intent.afterToolResult) {
    const name = typeof intent.choice === 'object' ? intent.choice.name : intent.tools[0].name;
    const tool = intent.tools.find((t) => t.name === name) ?? intent.tools[0];
    const args = sampleFromSchema(tool.schema);
    return { toolCall: { name: tool.name, arguments: isObject(args) ? args : {} } };
  }
  if (intent.jsonSchema) return { text: JSON.stringify(sampleFromSchema(intent.jsonSchema)) };
  return null;
}

const FORMATS: Record<string, string> = {
  'date-time': '2026-01-02T03:04:05Z',
  date: '2026-01-02',
  time: '03:04:05',
  email: 'someone@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  uuid: '123e4567-e89b-42d3-a456-426614174000',
  ipv4: '192.0.2.1',
};

function resolveRef(ref: string, root: Schema): Schema {
  if (ref === '#') return root;
  let node: JsonValue = root;
  for (const part of ref.replace(/^#\//, '').split('/'))
    node = node?.[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))];
  return isObject(node) ? node : {};
}

function typeOf(schema: Schema): string {
  const t = schema.type;
  const first = Array.isArray(t) ? (t.find((x: string) => x !== 'null') ?? 'null') : t;
  if (typeof first === 'string') return first.toLowerCase(); // Gemini's OpenAPI schemas say STRING
  if (schema.properties) return 'object';
  if (schema.items || schema.prefixItems) return 'array';
  return 'string';
}

function sampleString(schema: Schema, key: string): string {
  if (typeof schema.format === 'string' && FORMATS[schema.format]) return FORMATS[schema.format];
  let s = key ? `sample ${key}` : 'sample';
  const min = Number(schema.minLength ?? 0);
  const max = Number(schema.maxLength ?? Infinity);
  while (s.length < min) s += 'x';
  return s.slice(0, max);
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const min =
    schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : undefined);
  const max =
    schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : undefined);
  let v = min ?? (max !== undefined ? Math.min(1, max) : 1);
  if (integer) v = Math.ceil(v);
  return v;
}

/**
 * A deterministic value that validates against a JSON Schema: every property present (strict
 * schemas require them all), the first enum value or anyOf branch, `minItems` items (at least
 * one), numbers at the lower bound, strings in the declared format. `$ref`s into `$defs` /
 * `definitions` are followed; recursion stops at depth 8 with the smallest valid value.
 */
export function sampleFromSchema(schema: Schema, root: Schema = schema, key = '', depth = 0): unknown {
  if (typeof schema.$ref === 'string')
    return sampleFromSchema(resolveRef(schema.$ref, root), root, key, depth);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const branches: JsonValue[] | undefined = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches) && branches.length) {
    const branch = branches.find((b) => isObject(b) && b.type !== 'null') ?? branches[0];
    return sampleFromSchema(branch, root, key, depth);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    const merged = schema.allOf.reduce(
      (acc: Schema, s: Schema) => ({
        ...acc,
        ...s,
        properties: { ...(acc.properties ?? {}), ...(s.properties ?? {}) },
      }),
      {},
    );
    return sampleFromSchema(merged, root, key, depth);
  }
  switch (typeOf(schema)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth >= 8) return out;
      for (const [k, sub] of Object.entries(schema.properties ?? {}))
        out[k] = sampleFromSchema(isObject(sub) ? sub : {}, root, k, depth + 1);
      return out;
    }
    case 'array': {
      const prefix: JsonValue[] = schema.prefixItems ?? (Array.isArray(schema.items) ? schema.items : []);
      if (prefix.length) return prefix.map((s) => sampleFromSchema(s, root, key, depth + 1));
      const count =
        depth >= 8 ? 0 : Math.min(Math.max(1, Number(schema.minItems ?? 1)), Number(schema.maxItems ?? 8));
      const items = isObject(schema.items) ? schema.items : {};
      return Array.from({ length: count }, () => sampleFromSchema(items, root, key, depth + 1));
    }
    case 'integer':
      return sampleNumber(schema, true);
    case 'number':
      return sampleNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return sampleString(schema, key);
  }
}
