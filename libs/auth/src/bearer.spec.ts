import {
  classifyCredential,
  decodeJwtHeader,
  parseAuthorizationHeader,
  parseCredentialHeaders,
} from './bearer';

const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (header: unknown) => `${seg(header)}.${seg({ sub: 'x' })}.c2ln`;

describe('parseAuthorizationHeader', () => {
  it('tells a missing header from a malformed one', () => {
    expect(parseAuthorizationHeader(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(parseAuthorizationHeader('')).toEqual({ ok: false, reason: 'missing' });
    for (const bad of [
      'Basic abc',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearerabc',
      'Token abc',
      `Bearer ${'x'.repeat(8193)}`,
    ]) {
      expect(parseAuthorizationHeader(bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(parseAuthorizationHeader(['Bearer a', 'Bearer b'])).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts the Bearer scheme case-insensitively', () => {
    expect(parseAuthorizationHeader('Bearer atp_abc')).toEqual({ ok: true, credential: 'atp_abc' });
    expect(parseAuthorizationHeader('bearer  atp_abc ')).toEqual({ ok: true, credential: 'atp_abc' });
  });
});

describe('classifyCredential (routing only; each verifier pins its own algorithms)', () => {
  it('routes atp_ to the API key verifier', () => {
    expect(classifyCredential('atp_whatever').kind).toBe('api_key');
  });

  it('routes HS256 to the platform verifier, RS256/ES256 to the OIDC verifier', () => {
    expect(classifyCredential(jwt({ alg: 'HS256' })).kind).toBe('platform_jwt');
    expect(classifyCredential(jwt({ alg: 'RS256', kid: 'a' }))).toMatchObject({
      kind: 'oidc_jwt',
      alg: 'RS256',
    });
    expect(classifyCredential(jwt({ alg: 'ES256' }))).toMatchObject({ kind: 'oidc_jwt', alg: 'ES256' });
  });

  it.each([
    ['alg none', jwt({ alg: 'none' })],
    ['alg None', jwt({ alg: 'None' })],
    ['no alg', jwt({ typ: 'JWT' })],
    ['HS512', jwt({ alg: 'HS512' })],
    ['PS256', jwt({ alg: 'PS256' })],
    ['crit extension', jwt({ alg: 'HS256', crit: ['b64'], b64: false })],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.e30.c2ln`],
    ['header an array', `${seg(['HS256'])}.e30.c2ln`],
    ['two segments', 'abc.def'],
    ['random text', 'sk-proj-123'],
  ])('refuses %s', (_name, token) => {
    expect(classifyCredential(token).kind).toBe('invalid');
  });

  it('decodes a header without trusting it', () => {
    expect(decodeJwtHeader(jwt({ alg: 'RS256', kid: 'k1', jku: 'https://evil' }))).toEqual({
      alg: 'RS256',
      kid: 'k1',
      jku: 'https://evil',
    });
    expect(decodeJwtHeader('.abc.def')).toBeNull();
  });
});

describe('parseCredentialHeaders (Authorization: Bearer or x-api-key)', () => {
  it('takes either header, or both when they carry the same credential', () => {
    expect(parseCredentialHeaders({ authorization: 'Bearer atp_a' })).toEqual({
      ok: true,
      credential: 'atp_a',
    });
    expect(parseCredentialHeaders({ 'x-api-key': ' atp_a ' })).toEqual({ ok: true, credential: 'atp_a' });
    expect(parseCredentialHeaders({ authorization: 'Bearer atp_a', 'x-api-key': 'atp_a' })).toEqual({
      ok: true,
      credential: 'atp_a',
    });
  });

  it('tells missing, malformed and conflicting apart', () => {
    expect(parseCredentialHeaders({})).toEqual({ ok: false, reason: 'missing' });
    expect(parseCredentialHeaders({ 'x-api-key': '' })).toEqual({ ok: false, reason: 'missing' });
    for (const bad of ['a b', ['atp_a', 'atp_b'], 'x'.repeat(8193)]) {
      expect(parseCredentialHeaders({ 'x-api-key': bad })).toEqual({
        ok: false,
        reason: 'malformed_x_api_key',
      });
    }
    expect(parseCredentialHeaders({ authorization: 'Basic abc', 'x-api-key': 'atp_a' })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(parseCredentialHeaders({ authorization: 'Bearer atp_a', 'x-api-key': 'atp_b' })).toEqual({
      ok: false,
      reason: 'conflict',
    });
  });
});
