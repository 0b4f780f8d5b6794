import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { type JsonSchema, sampleFromSchema } from './schema-sample';

// A real JSON Schema validator (draft 2020-12 with formats) judges every sample.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

function expectValid(schema: JsonSchema, value = sampleFromSchema(schema)): unknown {
  const validate = ajv.compile(schema as object);
  const ok = validate(value);
  if (!ok) throw new Error(`${JSON.stringify(value)} fails: ${ajv.errorsText(validate.errors)}`);
  return value;
}

describe('sampleFromSchema', () => {
  it('scalars: the type asked for, the same value every time', () => {
    expect(expectValid({ type: 'string' })).toBe('mock');
    expect(expectValid({ type: 'integer' })).toBe(1);
    expect(expectValid({ type: 'number' })).toBe(1);
    expect(expectValid({ type: 'boolean' })).toBe(true);
    expect(expectValid({ type: 'null' })).toBeNull();
    expect(sampleFromSchema({ type: 'object', properties: { a: { type: 'string' } } })).toEqual(
      sampleFromSchema({ type: 'object', properties: { a: { type: 'string' } } }),
    );
  });

  it('objects: every property, required ones without a properties entry, nested objects and arrays', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        address: {
          type: 'object',
          properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]+$' } },
          required: ['city', 'zip'],
          additionalProperties: false,
        },
        scores: { type: 'array', items: { type: 'number', minimum: 10 }, minItems: 3 },
        extra: { type: 'object', additionalProperties: { type: 'integer' }, minProperties: 2 },
      },
      required: ['name', 'address', 'scores', 'other'],
      additionalProperties: { type: 'boolean' },
    };
    const value = expectValid(schema) as Record<string, unknown>;
    expect(value).toMatchObject({
      name: 'mock name',
      address: { city: 'mock city', zip: '0' },
      scores: [10, 10, 10],
      other: true,
      extra: { key0: 1, key1: 1 },
    });
  });

  it('enum, const, type lists and OpenAPI nullable', () => {
    expect(expectValid({ enum: ['red', 'green'] })).toBe('red');
    expect(expectValid({ const: { fixed: [1, 2] } })).toEqual({ fixed: [1, 2] });
    expect(expectValid({ type: ['null', 'integer'] })).toBe(1);
    expect(expectValid({ type: ['string', 'null'] })).toBe('mock');
    expect(sampleFromSchema({ type: 'string', nullable: true })).toBe('mock');
  });

  it('formats: date, date-time, time, email, uuid, uri, hostname, ipv4, ipv6, duration', () => {
    for (const format of [
      'date',
      'date-time',
      'time',
      'email',
      'uuid',
      'uri',
      'hostname',
      'ipv4',
      'ipv6',
      'duration',
    ]) {
      expectValid({ type: 'string', format });
      expectValid({ type: 'array', items: { type: 'string', format }, minItems: 3, uniqueItems: true });
    }
  });

  it('string and number bounds: lengths, exclusive bounds, multipleOf', () => {
    expect(expectValid({ type: 'string', minLength: 12 })).toHaveLength(12);
    expect(expectValid({ type: 'string', maxLength: 2 })).toBe('mo');
    expectValid({ type: 'integer', minimum: 100, maximum: 200 });
    expectValid({ type: 'integer', exclusiveMinimum: 5 });
    expectValid({ type: 'integer', maximum: -3 });
    expectValid({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 });
    expectValid({ type: 'number', minimum: 0.25, multipleOf: 0.1 });
    expectValid({ type: 'integer', minimum: 7, multipleOf: 5 });
    expectValid({ type: 'integer', exclusiveMaximum: 10, multipleOf: 10 });
  });

  it('arrays: minItems, maxItems 0, tuples (prefixItems), uniqueItems of scalars, enums and objects', () => {
    expect(expectValid({ type: 'array', items: { type: 'string' } })).toEqual(['mock']);
    expect(expectValid({ type: 'array', items: { type: 'string' }, maxItems: 0 })).toEqual([]);
    expect(
      expectValid({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false }),
    ).toEqual(['mock', 1]);
    expectValid({ type: 'array', items: { type: 'integer', maximum: 3 }, minItems: 3, uniqueItems: true });
    expectValid({ type: 'array', items: { enum: ['a', 'b', 'c'] }, minItems: 3, uniqueItems: true });
    expectValid({
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      minItems: 2,
      uniqueItems: true,
    });
  });

  it('anyOf/oneOf take the first branch, allOf is merged, $ref resolves into $defs and definitions', () => {
    expect(expectValid({ anyOf: [{ type: 'integer' }, { type: 'string' }] })).toBe(1);
    expect(expectValid({ oneOf: [{ type: 'string', format: 'email' }, { type: 'integer' }] })).toBe(
      'user@example.com',
    );
    expectValid({
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        { properties: { b: { type: 'integer', minimum: 4 } }, required: ['b'] },
      ],
    });
    expectValid({
      type: 'object',
      properties: {
        owner: { $ref: '#/$defs/Person' },
        team: { type: 'array', items: { $ref: '#/definitions/Person' } },
      },
      required: ['owner', 'team'],
      $defs: {
        Person: {
          type: 'object',
          properties: { email: { type: 'string', format: 'email' } },
          required: ['email'],
        },
      },
      definitions: { Person: { $ref: '#/$defs/Person' } },
    });
  });

  it('recursive schemas end: past the depth limit only required properties and minItems items', () => {
    const tree = {
      $ref: '#/$defs/Node',
      $defs: {
        Node: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/Node' } },
          },
          required: ['name', 'children'],
        },
      },
    };
    expect(JSON.stringify(expectValid(tree)).length).toBeLessThan(2_000);
  });

  it('zod schemas (as generateObject, withStructuredOutput and chat.completions.parse send them) parse back', () => {
    const Node: z.ZodType<{ label: string; next?: unknown }> = z.object({
      label: z.string(),
      get next() {
        return Node.optional();
      },
    });
    const Event = z.object({
      title: z.string().min(3),
      day: z.iso.date(),
      at: z.iso.datetime(),
      id: z.uuid(),
      organiser: z.email(),
      link: z.url(),
      kind: z.enum(['meeting', 'call']),
      attendees: z.array(z.object({ name: z.string(), age: z.number().int().min(18).max(99) })).min(2),
      notes: z.string().nullable(),
      location: z.union([z.object({ room: z.string() }), z.string()]),
      pair: z.tuple([z.string(), z.number()]),
      status: z.literal('confirmed'),
      chain: Node,
    });
    const jsonSchema = z.toJSONSchema(Event, { target: 'draft-2020-12' }) as JsonSchema;
    const value = expectValid(jsonSchema);
    expect(Event.safeParse(value).error).toBeUndefined();
    expect(Event.parse(value)).toMatchObject({ day: '2026-01-01', kind: 'meeting', status: 'confirmed' });
  });
});
