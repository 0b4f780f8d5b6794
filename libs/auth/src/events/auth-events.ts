import { Inject, Injectable, Logger, Optional } from '@nestjs/common';

export type AuthEventAction =
  'auth.denied' | 'apikey.created' | 'apikey.revoked' | 'tenant.created' | 'limits.updated';

/**
 * What the audit trail records about authentication and credential management. Never holds a
 * secret: no key, no token, no hash.
 */
export interface AuthEvent {
  action: AuthEventAction;
  outcome: 'success' | 'denied';
  /** Null when the request never authenticated (401). */
  tenantId: string | null;
  /** The acting caller's subject (`api_key:<id>`, a token's `sub`, `cli:<user>`). */
  actorId: string | null;
  credentialId: string | null;
  statusCode: number;
  requestId: string | null;
  sourceIp: string | null;
  resourceType: 'api_key' | 'tenant' | 'route';
  /** The key or tenant id; for `auth.denied`, the route (`GET /v1/admin/api-keys`). */
  resourceId: string | null;
  /** For denials: the stable error code (`invalid_api_key`, `insufficient_scope`, …). */
  reason?: string;
  at: Date;
}

/** Where auth events go. The audit library binds the real one. */
export interface AuthEventSink {
  emit(event: AuthEvent): void | Promise<void>;
}

/**
 * Injection token for the {@link AuthEventSink}. AuthModule does not provide it: a @Global()
 * module (the audit library) that provides and exports it is picked up automatically; without
 * one, events go to {@link NoopAuthEventSink}.
 */
export const AUTH_EVENT_SINK = Symbol('AUTH_EVENT_SINK');

export class NoopAuthEventSink implements AuthEventSink {
  emit(): void {}
}

/** Emits without ever failing or slowing the request: a broken sink is logged, not thrown. */
@Injectable()
export class AuthEvents {
  private readonly logger = new Logger('AuthEvents');
  private readonly sink: AuthEventSink;

  constructor(@Optional() @Inject(AUTH_EVENT_SINK) sink?: AuthEventSink | null) {
    this.sink = sink ?? new NoopAuthEventSink();
  }

  emit(event: AuthEvent): void {
    try {
      const pending = this.sink.emit(event);
      if (pending && typeof pending.then === 'function')
        pending.then(undefined, (err: unknown) => this.failed(event, err));
    } catch (err) {
      this.failed(event, err);
    }
  }

  private failed(event: AuthEvent, err: unknown): void {
    this.logger.warn(
      `auth event ${event.action} was not recorded: ${(err as Error)?.message ?? String(err)}`,
    );
  }
}
