// Helpers shared by the auth e2e suites (apps/*/test/auth*.e2e-spec.ts, test/auth*.e2e-spec.ts).
import { createHmac, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Controller, Get, Global, Module, type Type } from '@nestjs/common';
import { AUTH_EVENT_SINK, type AuthEvent, type Caller, CurrentCaller, Public, Scopes } from '@app/auth';
import type { BootedApp } from '@app/testing';

/** Asserts status AND the CONTRACT §4 envelope with a stable code. */
export function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as { error?: { code?: unknown } })?.error?.code }).toEqual({
    status,
    code,
  });
  const err = (res.body as { error: Record<string, unknown> }).error;
  expect(Object.keys(err).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof err.message).toBe('string');
  expect((err.message as string).length).toBeGreaterThan(0);
  const type = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    409: 'conflict_error',
  }[status];
  if (type) expect(err.type).toBe(type);
}

export interface DevCredentials {
  tenant_id: string;
  api_key: string;
}

/** The development credential a service wrote into its data dir (a booted app's, or a dir). */
export function readDevCredentials(from: BootedApp | string): DevCredentials {
  const dataDir = typeof from === 'string' ? from : from.config.dataDir;
  return JSON.parse(readFileSync(join(dataDir, 'dev-credentials.json'), 'utf8')) as DevCredentials;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT with any header/payload (the header's alg is taken as given). */
export function hs256(
  payload: Record<string, unknown>,
  secret: string | Buffer,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** An unsigned `alg: none` token. */
export function unsigned(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** RS256/ES256 JWS with node:crypto. */
export function signAsym(
  alg: 'RS256' | 'ES256',
  key: KeyObject,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg, typ: 'JWT', ...header })}.${b64(payload)}`;
  const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

export interface IssuerKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newIssuerKey(
  alg: 'RS256' | 'ES256' = 'RS256',
  kid = `k-${randomUUID().slice(0, 8)}`,
): IssuerKey {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A local OIDC issuer on 127.0.0.1: discovery + JWKS, rotatable, counting JWKS fetches. */
export class TestIssuer {
  private server: Server | null = null;
  url = '';
  jwksHits = 0;
  keys: IssuerKey[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer: this.url,
            jwks_uri: `${this.url}/jwks`,
            id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          }),
        );
      } else if (req.url === '/jwks') {
        this.jwksHits++;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            keys: this.keys.map((k) => ({
              ...k.publicKey.export({ format: 'jwk' }),
              kid: k.kid,
              alg: k.alg,
              use: 'sig',
            })),
          }),
        );
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  token(key: IssuerKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
    const now = nowSeconds();
    return signAsym(
      key.alg,
      key.privateKey,
      { iss: this.url, iat: now, exp: now + 300, ...claims },
      { kid: key.kid, ...header },
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** A server that must never be contacted (a `jku`/`x5u` target). */
export async function tripwireServer(): Promise<{
  url: string;
  hits: () => number;
  close: () => Promise<void>;
}> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, hits: () => hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Captures auth events (bound like the audit library will: a global module exporting AUTH_EVENT_SINK). */
export function eventCapture(): { events: AuthEvent[]; module: Type<unknown> } {
  const events: AuthEvent[] = [];
  @Global()
  @Module({
    providers: [{ provide: AUTH_EVENT_SINK, useValue: { emit: (e: AuthEvent) => void events.push(e) } }],
    exports: [AUTH_EVENT_SINK],
  })
  class CapturingSinkModule {}
  return { events, module: CapturingSinkModule };
}

export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Stand-ins for routes to come (the gateway has none under /v1 yet), to probe the guard. */
@Controller('v1/__auth-probe')
class AuthProbeController {
  @Get('read')
  @Scopes('memory:read')
  read(@CurrentCaller() caller: Caller) {
    return { tenant_id: caller.tenantId, scopes: caller.scopes };
  }

  /** Declares nothing: under /v1 that still means "any valid credential". */
  @Get('undeclared')
  undeclared() {
    return { ok: true };
  }

  @Get('public')
  @Public()
  open() {
    return { ok: true };
  }
}

@Module({ controllers: [AuthProbeController] })
export class AuthProbeModule {}
