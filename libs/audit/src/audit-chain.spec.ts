import { createHmac, randomBytes } from 'node:crypto';
import {
  auditSecretsFromKeyRing,
  ChainVerifier,
  computeEventHash,
  deriveAuditSecret,
  EMPTY_HEAD,
  GENESIS_HASH,
  hashInput,
  sealEvents,
} from './audit-chain';
import { cut, toPendingEvent } from './audit-event.mapper';
import { canonicalJson } from './canonical-json';
import type { AuditEventRecord, AuditSecret } from './audit.types';

const secret: AuditSecret = { id: 'a1', key: randomBytes(32) };
const at = new Date('2026-11-26T08:00:00.123Z');

function pending(n: number, tenantId = 't-1') {
  return Array.from({ length: n }, (_, i) =>
    toPendingEvent(
      {
        tenantId,
        action: 'memory.write',
        actorType: 'api_key',
        actorId: 'key_1',
        outcome: 'success',
        resourceType: 'memory',
        resourceId: `notes/k${i}`,
        sourceIp: '203.0.113.9',
        piiSummary: { PHONE: 1, EMAIL: 2 },
      },
      new Date(at.getTime() + i),
    ),
  );
}

function verify(
  rows: AuditEventRecord[],
  secrets = [secret],
  head = rows.length ? rows[rows.length - 1] : null,
) {
  const v = new ChainVerifier(secrets);
  for (const row of rows) if (!v.check(row)) break;
  return v.result(head && { seq: head.seq, hash: head.hash });
}

describe('audit hash chain', () => {
  it('seals consecutive seqs linked by prev_hash, starting from the genesis hash', () => {
    const { rows, head } = sealEvents(secret, EMPTY_HEAD, pending(3));
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0].prev_hash).toBe(GENESIS_HASH);
    expect(rows[1].prev_hash).toBe(rows[0].hash);
    expect(rows[2].prev_hash).toBe(rows[1].hash);
    expect(head).toEqual({ seq: 3, hash: rows[2].hash });
    expect(rows.every((r) => r.hash_key_id === 'a1' && /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
    const next = sealEvents(secret, head, pending(1));
    expect(next.rows[0]).toMatchObject({ seq: 4, prev_hash: rows[2].hash });
  });

  it('hash = HMAC-SHA-256 over the canonical JSON of every field but hash', () => {
    const [row] = sealEvents(secret, EMPTY_HEAD, pending(1)).rows;
    const { hash, ...rest } = row;
    const input = hashInput(rest);
    expect(JSON.parse(input)).toEqual({ ...rest, occurred_at: '2026-11-26T08:00:00.123Z' });
    expect(Object.keys(JSON.parse(input) as object)).toEqual(Object.keys(JSON.parse(input) as object).sort());
    expect(hash).toBe(createHmac('sha256', secret.key).update(input).digest('hex'));
    // Stored field order or JSON key order does not matter; the values do.
    expect(
      computeEventHash(secret.key, {
        ...rest,
        pii_summary: rest.pii_summary!.map((p) => ({ count: p.count, type: p.type })),
      }),
    ).toBe(hash);
    expect(computeEventHash(secret.key, { ...rest, status_code: 200 })).not.toBe(hash);
    expect(computeEventHash(randomBytes(32), rest)).not.toBe(hash);
  });

  it('writes the hash input out directly, byte for byte what canonicalJson gives, for every shape', () => {
    const [row] = sealEvents(secret, EMPTY_HEAD, pending(1)).rows;
    const { hash: _hash, ...base } = row;
    const generic = (e: typeof base) =>
      canonicalJson({ ...e, hash: undefined, occurred_at: e.occurred_at.toISOString() });
    const variants: (typeof base)[] = [
      base,
      { ...base, pii_summary: null, actor_id: null, source_ip: null, status_code: null },
      { ...base, actor_id: 'quote " backslash \\ tab \t nl \n ctl \u0001 emoji 😀 é \u2028', seq: 2 ** 40 },
      { ...base, pii_summary: [], request_id: '' },
      // Odd shapes take the generic path: key order, extra keys, a missing field, a string seq.
      { ...base, pii_summary: [{ count: 1, type: 'EMAIL' }] },
      { ...base, pii_summary: [{ type: 'EMAIL', count: 1, extra: true } as never] },
      { ...base, credential_id: undefined as never },
      { ...base, seq: '7' as never },
      { ...base, status_code: -0 },
    ];
    for (const v of variants) expect(hashInput(v)).toBe(generic(v));
    expect(() => hashInput({ ...base, actor_id: 'lone \ud800' })).toThrow(/lone surrogate/);
    expect(() => hashInput({ ...base, status_code: Number.NaN })).toThrow(/finite/);
  });

  it('verifies an intact chain', () => {
    const { rows } = sealEvents(secret, EMPTY_HEAD, pending(5));
    expect(verify(rows)).toEqual({ ok: true, checked: 5, first_bad_seq: null, reason: null });
    expect(verify([], [secret], null)).toEqual({ ok: true, checked: 0, first_bad_seq: null, reason: null });
  });

  it('an edited field → hash_mismatch at that seq', () => {
    const { rows } = sealEvents(secret, EMPTY_HEAD, pending(5));
    rows[2] = { ...rows[2], resource_id: 'notes/other' };
    expect(verify(rows)).toEqual({ ok: false, checked: 2, first_bad_seq: 3, reason: 'hash_mismatch' });
  });

  it('a deleted row → seq_gap at the missing seq; a deleted tail → seq_gap against the head', () => {
    const { rows, head } = sealEvents(secret, EMPTY_HEAD, pending(5));
    expect(verify([...rows.slice(0, 1), ...rows.slice(2)])).toMatchObject({
      ok: false,
      first_bad_seq: 2,
      reason: 'seq_gap',
    });
    expect(verify(rows.slice(0, 3), [secret], { ...rows[4], ...head })).toMatchObject({
      ok: false,
      checked: 3,
      first_bad_seq: 4,
      reason: 'seq_gap',
    });
  });

  it('two rows swapped (their seq values exchanged) → prev_hash_mismatch at the first', () => {
    const { rows } = sealEvents(secret, EMPTY_HEAD, pending(5));
    const swapped = [rows[0], { ...rows[2], seq: 2 }, { ...rows[1], seq: 3 }, rows[3], rows[4]];
    expect(verify(swapped)).toMatchObject({
      ok: false,
      checked: 1,
      first_bad_seq: 2,
      reason: 'prev_hash_mismatch',
    });
  });

  it('a head that disagrees with the last row → head_mismatch', () => {
    const { rows } = sealEvents(secret, EMPTY_HEAD, pending(2));
    expect(verify(rows, [secret], { ...rows[1], hash: 'f'.repeat(64) })).toMatchObject({
      ok: false,
      first_bad_seq: 2,
      reason: 'head_mismatch',
    });
  });

  it('verifies across a secret rotation, and reports a row keyed by an unknown secret', () => {
    const old = sealEvents(secret, EMPTY_HEAD, pending(2));
    const next: AuditSecret = { id: 'a2', key: randomBytes(32) };
    const newer = sealEvents(next, old.head, pending(2));
    const all = [...old.rows, ...newer.rows];
    expect(verify(all, [next, secret])).toMatchObject({ ok: true, checked: 4 });
    expect(verify(all, [next])).toMatchObject({ ok: false, first_bad_seq: 1, reason: 'unknown_hash_key' });
  });

  it('derives audit secrets with HKDF, deterministic per root key, keeping ring ids', () => {
    const root = randomBytes(32);
    expect(deriveAuditSecret(root).key.equals(deriveAuditSecret(root).key)).toBe(true);
    expect(deriveAuditSecret(root).key.equals(root)).toBe(false);
    expect(deriveAuditSecret('a-jwt-secret-of-enough-length', 'jwt').id).toBe('jwt');
    expect(() => deriveAuditSecret(Buffer.alloc(4))).toThrow(RangeError);
    const ring = auditSecretsFromKeyRing([
      { id: 'k1', key: randomBytes(32) },
      { id: 'k0', key: root },
    ]);
    expect(ring.map((s) => s.id)).toEqual(['k1', 'k0']);
    expect(ring[1].key.equals(deriveAuditSecret(root).key)).toBe(true);
  });
});

describe('toPendingEvent', () => {
  it('truncates the IP, sorts the PII summary and never needs a value', () => {
    const e = toPendingEvent(
      {
        tenantId: 't',
        action: 'pii.detected',
        actorType: 'user',
        outcome: 'success',
        sourceIp: '2001:db8:1:2::1',
        piiSummary: [
          { type: 'PHONE', count: 1 },
          { type: 'EMAIL', count: 2 },
          { type: 'PHONE', count: 2 },
          { type: 'SSN', count: 0 },
        ],
        statusCode: 201,
      },
      at,
    );
    expect(e).toMatchObject({
      source_ip: '2001:db8:1::/48',
      pii_summary: [
        { type: 'EMAIL', count: 2 },
        { type: 'PHONE', count: 3 },
      ],
      occurred_at: at,
      actor_id: null,
      status_code: 201,
    });
    expect(e.event_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('cuts long identifiers to whole code points, as Array.from splits them', () => {
    const reference = (v: string, max: number) => Array.from(v).slice(0, max).join('');
    const samples = [
      'a'.repeat(300),
      '😀'.repeat(200),
      `${'a'.repeat(255)}😀b`,
      `${'😀'.repeat(3)}\ud800${'x'.repeat(300)}`,
      `\udc00${'é'.repeat(300)}\ud83d`,
      `${'x'.repeat(255)}\ud83d`,
    ];
    for (const v of samples) {
      for (const max of [1, 3, 4, 255, 256, 257, 600]) expect(cut(v, max)).toBe(reference(v, max));
    }
    const short = 'key_123';
    expect(cut(short, 256)).toBe(short);
    expect(cut('', 10)).toBeNull();
    expect(cut(null, 10)).toBeNull();
    const e = toPendingEvent(
      {
        tenantId: 't',
        action: 'memory.read',
        actorType: 'user',
        outcome: 'success',
        actorId: '😀'.repeat(300),
        resourceType: `${'r'.repeat(31)}😀😀`,
      },
      at,
    );
    expect(e.actor_id).toBe('😀'.repeat(256));
    expect(e.resource_type).toBe(`${'r'.repeat(31)}😀`);
  });

  it('rejects programming errors with a typed error', () => {
    const base = { tenantId: 't', action: 'memory.read', actorType: 'user', outcome: 'success' } as const;
    expect(() => toPendingEvent({ ...base, action: 'memory.steal' as never }, at)).toThrow(
      /unknown audit action/,
    );
    expect(() => toPendingEvent({ ...base, tenantId: '' }, at)).toThrow(/tenant/);
    expect(() => toPendingEvent({ ...base, statusCode: 42 }, at)).toThrow(/status_code/);
    expect(() => toPendingEvent({ ...base, piiSummary: { EMAIL: 1.5 } }, at)).toThrow(/pii_summary/);
    expect(() => toPendingEvent({ ...base, eventId: 'not-a-uuid' }, at)).toThrow(/event_id/);
  });
});
