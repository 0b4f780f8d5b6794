import { Logger } from '@nestjs/common';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AtpError } from '@app/common';
import {
  JWKS_MAX_AGE_MS,
  JWKS_REFETCH_COOLDOWN_MS,
  OidcKeySet,
  verificationKeyFromJwk,
} from './oidc-key-set';

const ISSUER = 'https://idp.example.com';
// RSA key generation is slow: a few keys, made once, handed out in turn (distinct within a test).
const RSA_POOL = Array.from(
  { length: 4 },
  () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
);
let nextRsa = 0;
const rsa = () => RSA_POOL[nextRsa++ % RSA_POOL.length];
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const jwk = (key: KeyObject, extra: Record<string, unknown>) => ({
  ...key.export({ format: 'jwk' }),
  ...extra,
});

/** A fake IdP: discovery + JWKS, with a counter of JWKS fetches and a switch to fail. */
function fakeIdp(
  keys: Record<string, unknown>[],
  discovery: Record<string, unknown> = { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
) {
  const state = { keys, discovery, jwksFetches: 0, down: false, urls: [] as string[] };
  const fetchFn = async (url: string) => {
    state.urls.push(url);
    if (state.down) throw new Error('connect ECONNREFUSED');
    if (url === `${ISSUER}/.well-known/openid-configuration`)
      return new Response(JSON.stringify(state.discovery));
    if (url === state.discovery.jwks_uri) {
      state.jwksFetches++;
      return new Response(JSON.stringify({ keys: state.keys }));
    }
    return new Response('not found', { status: 404 });
  };
  return { state, fetchFn };
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return err instanceof AtpError ? `${err.status} ${err.code}` : String(err);
  }
}

describe('OidcKeySet', () => {
  // Failure paths log a warning by design; keep the test output clean.
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  let now: number;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  it('discovers, fetches the JWKS once, and finds keys by kid and algorithm', async () => {
    const [k1, k2] = [rsa(), ec()];
    const idp = fakeIdp([jwk(k1, { kid: 'r1', alg: 'RS256', use: 'sig' }), jwk(k2, { kid: 'e1' })]);
    const set = new OidcKeySet(ISSUER, clock, idp.fetchFn);
    expect((await set.keyFor('r1', 'RS256')).equals(k1)).toBe(true);
    expect((await set.keyFor('e1', 'ES256')).equals(k2)).toBe(true);
    expect(idp.state.jwksFetches).toBe(1);
    expect(idp.state.urls[0]).toBe(`${ISSUER}/.well-known/openid-configuration`);
  });

  it('a kid for the wrong algorithm is not a match', async () => {
    const idp = fakeIdp([jwk(rsa(), { kid: 'r1' })]);
    const set = new OidcKeySet(ISSUER, clock, idp.fetchFn);
    expect(await errorOf(set.keyFor('r1', 'ES256'))).toBe('401 invalid_token');
  });

  it('refetches on an unknown kid at most once per cool-down', async () => {
    const idp = fakeIdp([jwk(rsa(), { kid: 'old' })]);
    const set = new OidcKeySet(ISSUER, clock, idp.fetchFn);
    await set.keyFor('old', 'RS256');
    const rotated = rsa();
    idp.state.keys = [jwk(rotated, { kid: 'new' })];
    // Within the cool-down: no refetch, the new kid is unknown.
    now += JWKS_REFETCH_COOLDOWN_MS - 1;
    expect(await errorOf(set.keyFor('new', 'RS256'))).toBe('401 invalid_token');
    expect(idp.state.jwksFetches).toBe(1);
    // After it: one refetch finds the rotated key.
    now += 1;
    expect((await set.keyFor('new', 'RS256')).equals(rotated)).toBe(true);
    expect(idp.state.jwksFetches).toBe(2);
    // A flood of unknown kids costs at most one fetch per cool-down.
    now += JWKS_REFETCH_COOLDOWN_MS;
    for (let i = 0; i < 10; i++)
      expect(await errorOf(set.keyFor(`bogus-${i}`, 'RS256'))).toBe('401 invalid_token');
    expect(idp.state.jwksFetches).toBe(3);
  });

  it('concurrent lookups share one fetch', async () => {
    const idp = fakeIdp([jwk(rsa(), { kid: 'a' })]);
    const set = new OidcKeySet(ISSUER, clock, idp.fetchFn);
    await Promise.all(Array.from({ length: 20 }, () => set.keyFor('a', 'RS256')));
    expect(idp.state.jwksFetches).toBe(1);
  });

  it('refreshes keys after the max age; removed keys stop verifying', async () => {
    const idp = fakeIdp([jwk(rsa(), { kid: 'a' })]);
    const set = new OidcKeySet(ISSUER, clock, idp.fetchFn);
    await set.keyFor('a', 'RS256');
    idp.state.keys = [jwk(rsa(), { kid: 'b' })];
    now += JWKS_MAX_AGE_MS;
    expect(await errorOf(set.keyFor('a', 'RS256'))).toBe('401 invalid_token');
    expect(idp.state.jwksFetches).toBe(2);
  });

  it('without a kid, uses the single key of the algorithm, else refuses', async () => {
    const only = rsa();
    const set = new OidcKeySet(ISSUER, clock, fakeIdp([jwk(only, {}), jwk(ec(), { kid: 'e' })]).fetchFn);
    expect((await set.keyFor(undefined, 'RS256')).equals(only)).toBe(true);
    const two = new OidcKeySet(
      ISSUER,
      clock,
      fakeIdp([jwk(rsa(), { kid: 'a' }), jwk(rsa(), { kid: 'b' })]).fetchFn,
    );
    expect(await errorOf(two.keyFor(undefined, 'RS256'))).toBe('401 invalid_token');
  });

  it('an unreachable issuer is a 503, retried only after a back-off; stale keys keep serving', async () => {
    const idp = fakeIdp([jwk(rsa(), { kid: 'a' })]);
    idp.state.down = true;
    const set = new OidcKeySet(ISSUER, clock, idp.fetchFn);
    expect(await errorOf(set.keyFor('a', 'RS256'))).toBe('503 auth_unavailable');
    const attempts = idp.state.urls.length;
    expect(await errorOf(set.keyFor('a', 'RS256'))).toBe('503 auth_unavailable');
    expect(idp.state.urls.length).toBe(attempts);
    now += 5_000;
    idp.state.down = false;
    await set.keyFor('a', 'RS256');
    // The IdP goes down after keys were cached: refreshes fail, cached keys still verify.
    idp.state.down = true;
    now += JWKS_MAX_AGE_MS;
    await expect(set.keyFor('a', 'RS256')).resolves.toBeDefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ['another issuer', { issuer: 'https://evil.example.com', jwks_uri: `${ISSUER}/jwks` }],
    ['a plain-http jwks_uri', { issuer: ISSUER, jwks_uri: 'http://idp.example.com/jwks' }],
    ['no jwks_uri', { issuer: ISSUER }],
  ])('refuses a discovery document naming %s', async (_name, discovery) => {
    const set = new OidcKeySet(ISSUER, clock, fakeIdp([jwk(rsa(), { kid: 'a' })], discovery).fetchFn);
    expect(await errorOf(set.keyFor('a', 'RS256'))).toBe('503 auth_unavailable');
  });

  it('asks only the issuer and its jwks_uri, never a URL from a token', async () => {
    const idp = fakeIdp([jwk(rsa(), { kid: 'a' })]);
    await new OidcKeySet(ISSUER, clock, idp.fetchFn).keyFor('a', 'RS256');
    expect(new Set(idp.state.urls)).toEqual(
      new Set([`${ISSUER}/.well-known/openid-configuration`, `${ISSUER}/jwks`]),
    );
  });
});

describe('verificationKeyFromJwk', () => {
  it('keeps RSA (≥ 2048 bits) and P-256 signing keys only', () => {
    expect(verificationKeyFromJwk(jwk(rsa(), { kid: 'r' }))).toMatchObject({ kid: 'r', alg: 'RS256' });
    expect(verificationKeyFromJwk(jwk(ec(), { kid: 'e' }))).toMatchObject({ kid: 'e', alg: 'ES256' });
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(verificationKeyFromJwk(jwk(weak, {}))).toBeNull();
    expect(verificationKeyFromJwk(jwk(rsa(), { use: 'enc' }))).toBeNull();
    expect(verificationKeyFromJwk(jwk(rsa(), { alg: 'RS512' }))).toBeNull();
    expect(verificationKeyFromJwk(jwk(rsa(), { key_ops: ['encrypt'] }))).toBeNull();
    expect(verificationKeyFromJwk({ kty: 'oct', k: 'c2VjcmV0', kid: 'h' })).toBeNull();
    expect(
      verificationKeyFromJwk(jwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, {})),
    ).toBeNull();
    expect(verificationKeyFromJwk({ kty: 'RSA', n: 'garbage', e: 'AQAB' })).toBeNull();
  });

  it('ignores private members: only the public part is used', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = verificationKeyFromJwk({ ...privateKey.export({ format: 'jwk' }), kid: 'p' });
    expect(key?.key.type).toBe('public');
    expect(key?.key.equals(publicKey)).toBe(true);
  });
});
