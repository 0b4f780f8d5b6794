import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { DataKeyDestroyedError, TenantCrypto, type ValueContext } from '@app/crypto';
import { StoredResponseRepository } from './stored-response.repository';

/** What a stored response keeps: the `response` object as created, and the conversation up to and including it. */
export interface StoredResponse<R = unknown, I = unknown> {
  response: R;
  /** Every item the model has seen and said so far: what `previous_response_id` continues. */
  conversation: I[];
}

/** Injected clock (epoch ms): TTLs and expiry are computed from it. */
export const RESPONSES_CLOCK = Symbol('RESPONSES_CLOCK');

/** The encryption context binds a ciphertext to its tenant and id: a blob moved to another row fails. */
const context = (tenantId: string, id: string): ValueContext => ({
  tenantId,
  namespace: 'responses',
  key: id,
});

/**
 * Ids are minted here as `resp_<hex>`: a string of any other alphabet or length (a NUL byte, which
 * PostgreSQL rejects in text; a megabyte of path) cannot name a stored response, so it is not found
 * without asking the database.
 */
const couldBeStored = (id: string) => id.length <= 128 && /^[A-Za-z0-9_-]+$/.test(id);

/**
 * Stored responses, per tenant, encrypted with the tenant's data key (the same key as its
 * memory: a tenant erasure shreds both), for `ATP_RESPONSES_TTL_SECONDS`. A response of another
 * tenant, an expired one and an erased one are all simply not found.
 */
@Injectable()
export class StoredResponses {
  private readonly ttlMs: number;

  constructor(
    private readonly repository: StoredResponseRepository,
    private readonly crypto: TenantCrypto,
    @Inject(APP_CONFIG) config: AppConfig<'router'>,
    @Inject(RESPONSES_CLOCK) private readonly now: () => number,
  ) {
    this.ttlMs = config.env.ATP_RESPONSES_TTL_SECONDS * 1000;
  }

  async save(tenantId: string, id: string, stored: StoredResponse): Promise<void> {
    const createdAt = this.now();
    const ciphertext = await this.crypto.encrypt(context(tenantId, id), JSON.stringify(stored));
    await this.repository.insert({ tenantId, id, ciphertext, createdAt, expiresAt: createdAt + this.ttlMs });
  }

  async find<R, I>(tenantId: string, id: string): Promise<StoredResponse<R, I> | null> {
    if (!couldBeStored(id)) return null;
    const ciphertext = await this.repository.findLive(tenantId, id, this.now());
    if (!ciphertext) return null;
    try {
      const plain = await this.crypto.decrypt(context(tenantId, id), ciphertext);
      return JSON.parse(plain.toString('utf8')) as StoredResponse<R, I>;
    } catch (err) {
      // Erased (its data key destroyed) but not yet deleted: gone for the client too.
      if (err instanceof DataKeyDestroyedError) return null;
      throw err;
    }
  }

  /** True when the tenant had this (live) response. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    if (!couldBeStored(id)) return false;
    return this.repository.deleteLive(tenantId, id, this.now());
  }
}
