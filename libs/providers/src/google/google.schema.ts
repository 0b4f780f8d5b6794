/**
 * JSON Schema → Gemini `Schema` (an OpenAPI 3.0 subset). Keywords Gemini rejects
 * (`additionalProperties`, `$schema`, `$ref`, …) are dropped; `type: [x, "null"]` becomes
 * `type: x, nullable: true`; `const` becomes a one-value `enum`.
 */
const KEEP = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'items',
  'anyOf',
  'propertyOrdering',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'default',
  'minProperties',
  'maxProperties',
]);

export function toGeminiSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const') out.enum = [value];
    else if (!KEEP.has(key)) continue;
    else if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      out.type = types[0] ?? 'string';
      if (types.length !== value.length) out.nullable = true;
    } else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, isObject(v) ? toGeminiSchema(v) : v]),
      );
    } else if (key === 'items' && isObject(value)) out.items = toGeminiSchema(value);
    else if (key === 'anyOf' && Array.isArray(value))
      out.anyOf = value.map((v) => (isObject(v) ? toGeminiSchema(v) : v));
    else out[key] = value;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
