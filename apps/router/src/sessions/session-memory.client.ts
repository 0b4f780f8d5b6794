import { Inject, Injectable, Logger } from '@nestjs/common';
import { AtpError } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { appendTurns, parseTurns, SESSION_ID_PATTERN, type SessionTurn } from './session-window';

/** Sessions live in this memory-gateway namespace, one record per session id. */
export const SESSION_NAMESPACE = 'atp-sessions';
const TIMEOUT_MS = 2_000;

export interface LoadedSession {
  id: string;
  /** The caller's own credential: the gateway enforces its tenant and memory scopes. */
  authorization: string;
  turns: SessionTurn[];
  /** ETag of the stored record (null when the session is new). */
  etag: string | null;
  /** False when the gateway could not be read: the call goes on without history and nothing is stored. */
  available: boolean;
}

/**
 * Session memory over the memory gateway's HTTP API (MEMORY_GATEWAY_URL), with the caller's
 * own bearer credential, so the gateway's tenancy, scopes, encryption and audit apply as for
 * any client. Reads are on the request path (bounded by a 2 s timeout); writes are not.
 */
@Injectable()
export class SessionMemoryClient {
  private readonly logger = new Logger('SessionMemory');
  private readonly base: string | null;
  readonly windowTokens: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig<'router'>) {
    this.base = config.env.MEMORY_GATEWAY_URL?.replace(/\/+$/, '') ?? null;
    this.windowTokens = config.env.ATP_SESSION_WINDOW_TOKENS;
  }

  private url(id: string): string {
    return `${this.base}/v1/memory/${SESSION_NAMESPACE}/${encodeURIComponent(id)}`;
  }

  /** @throws AtpError 400 for a bad id or when no gateway is configured, 403 when the credential may not use memory */
  async load(id: string, authorization: string): Promise<LoadedSession> {
    if (!SESSION_ID_PATTERN.test(id)) {
      throw AtpError.badRequest(
        'invalid_session_id',
        "x-atp-session-id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'",
      );
    }
    if (!this.base) {
      throw AtpError.badRequest(
        'session_memory_unavailable',
        'Session memory needs MEMORY_GATEWAY_URL; remove x-atp-session-id or configure it',
      );
    }
    let res: Response;
    try {
      res = await fetch(this.url(id), {
        headers: { authorization },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      this.logger.warn(`session read failed: ${(err as Error).message}`);
      return { id, authorization, turns: [], etag: null, available: false };
    }
    if (res.status === 404) {
      await res.arrayBuffer();
      return { id, authorization, turns: [], etag: null, available: true };
    }
    if (res.status === 401 || res.status === 403) {
      await res.arrayBuffer();
      throw new AtpError(
        403,
        'session_forbidden',
        'x-atp-session-id needs a credential with the memory:read and memory:write scopes',
      );
    }
    if (!res.ok) {
      await res.arrayBuffer();
      this.logger.warn(`session read failed: memory gateway answered ${res.status}`);
      return { id, authorization, turns: [], etag: null, available: false };
    }
    const record = (await res.json()) as { value?: unknown };
    return {
      id,
      authorization,
      turns: parseTurns(record.value),
      etag: res.headers.get('etag'),
      available: true,
    };
  }

  /** Appends turns (fire and forget); a concurrent writer (412) is merged with one re-read. */
  remember(session: LoadedSession, added: SessionTurn[]): void {
    if (!session.available || !added.length) return;
    void this.write(session, added, true).catch((err: unknown) =>
      this.logger.warn(`session write failed: ${(err as Error).message}`),
    );
  }

  private async write(session: LoadedSession, added: SessionTurn[], retry: boolean): Promise<void> {
    const turns = appendTurns(session.turns, added, this.windowTokens * 4);
    const headers: Record<string, string> = {
      authorization: session.authorization,
      'content-type': 'application/json',
    };
    if (session.etag) headers['if-match'] = session.etag;
    const res = await fetch(this.url(session.id), {
      method: 'PUT',
      headers,
      body: JSON.stringify({ value: { turns }, tags: ['atp-session'] }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.arrayBuffer();
    if (res.status === 412 && retry)
      return this.write(await this.load(session.id, session.authorization), added, false);
    if (!res.ok) throw new Error(`memory gateway answered ${res.status}`);
  }
}
