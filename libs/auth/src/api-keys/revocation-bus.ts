import { Logger } from '@nestjs/common';
import { type KvStore, withTimeout } from '@app/cache';
import { API_KEY_REVOKED_CHANNEL } from '../auth.constants';
import { isUuid } from '../ids';

export interface KeyRevokedMessage {
  id: string;
  tenant_id: string;
}

/**
 * Tells every replica that a key was revoked: the KvStore's pub/sub (Redis across processes,
 * in-process otherwise). Best effort by design: if the message is lost, the verified-key cache's
 * TTL still bounds how long a revoked key keeps working.
 */
export class RevocationBus {
  private readonly logger = new Logger('ApiKeyRevocation');
  private readonly local = new Set<(keyId: string) => void>();

  constructor(private readonly kv: Pick<KvStore, 'publish' | 'subscribe'>) {}

  /** Local listeners hear it at once (even with Redis down); others through the store. */
  async announce(msg: KeyRevokedMessage): Promise<void> {
    for (const h of this.local) h(msg.id);
    try {
      await this.kv.publish(API_KEY_REVOKED_CHANNEL, JSON.stringify(msg));
    } catch (err) {
      this.logger.warn(
        `could not broadcast a key revocation (other replicas catch up within the cache TTL): ${(err as Error).message}`,
      );
    }
  }

  /**
   * Listens for revocations from every replica. Resolves once subscribed, or after `waitMs`
   * (a Redis that is down must not hold up start-up; ioredis subscribes when it comes back).
   * @returns unsubscribe
   */
  async listen(handler: (keyId: string) => void, waitMs = 2000): Promise<() => Promise<void>> {
    this.local.add(handler);
    const onMessage = (raw: string) => {
      try {
        const msg = JSON.parse(raw) as Partial<KeyRevokedMessage>;
        if (isUuid(msg.id)) handler(msg.id);
      } catch {
        /* not ours: ignore */
      }
    };
    let unsubscribe: (() => Promise<void>) | null = null;
    let closed = false;
    const subscribed = this.kv.subscribe(API_KEY_REVOKED_CHANNEL, onMessage).then(
      async (unsub) => {
        if (closed) await unsub();
        else unsubscribe = unsub;
      },
      (err: unknown) => this.logger.warn(`could not subscribe to key revocations: ${(err as Error).message}`),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((r) => (timer = setTimeout(r, waitMs).unref()))]);
    clearTimeout(timer);
    return async () => {
      closed = true;
      this.local.delete(handler);
      const unsub = unsubscribe as (() => Promise<void>) | null;
      // Bounded: with Redis unreachable an UNSUBSCRIBE would wait for ever and stall shutdown.
      if (unsub) await withTimeout(unsub(), 1000, 'unsubscribe').catch(() => undefined);
    };
  }
}
