import { Injectable } from '@nestjs/common';
import {
  DataKeyDestroyedError,
  DataKeyRepository,
  DecryptionError,
  blobKeyId,
  normalizeTokens,
  TenantCrypto,
} from '@app/crypto';
import { searchableWithoutPlaceholders } from '@app/pii';
import type { RecordLocation, StoredRecord } from './memory.types';

/** What is encrypted beside the value: tags (also hashed, for the filter) and metadata. */
export interface RecordAttributes {
  tags: string[];
  metadata: Record<string, unknown> | null;
}

export interface SealInput extends RecordAttributes {
  value: unknown;
}

export interface SealedRecord {
  /** The data key both ciphertexts (and the index) were made with. */
  dataKeyId: string;
  valueCiphertext: Buffer;
  attrsCiphertext: Buffer | null;
  /** Blind-index tokens of the value. */
  tokens: string[];
  /** Keyed hashes of the tags. */
  tags: string[];
  sizeBytes: number;
}

/**
 * The format of what {@link MemoryCodec.searchTokens} and {@link MemoryCodec.tagHashes} produce,
 * stored with each record (`index_version`). 1: redaction placeholders are not words. Bump it
 * whenever they would index a stored value differently; `atp memory reindex` then rebuilds the
 * older rows.
 */
export const INDEX_FORMAT = 1;

const ATTRS_SUFFIX = '#attrs';
const MAX_SEARCH_TEXT = 200_000;
const QUERY_TOKENS = 64;

/**
 * Turns plaintext into what is stored and back: values and attributes sealed with the tenant's
 * data key (bound to tenant, namespace and key), a blind index of the value's words and keyed
 * hashes of its tags. Nothing it returns for storage reveals a word of the input.
 */
@Injectable()
export class MemoryCodec {
  constructor(
    private readonly crypto: TenantCrypto,
    private readonly dataKeys: DataKeyRepository,
  ) {}

  /**
   * Everything stored for a record: both ciphertexts, the blind index of the value, hashed tags,
   * and the size (bytes of the value and metadata as JSON, what the quota counts).
   */
  async seal(at: RecordLocation, content: SealInput): Promise<SealedRecord> {
    const { value, metadata, tags } = content;
    const [valueCiphertext, attrsCiphertext, tokens, tagHashes] = await Promise.all([
      this.sealValue(at, value),
      tags.length || metadata ? this.sealAttributes(at, { tags, metadata }) : Promise.resolve(null),
      this.searchTokens(at.tenantId, value),
      this.tagHashes(at.tenantId, tags),
    ]);
    const sizeBytes =
      Buffer.byteLength(JSON.stringify(value)) + (metadata ? Buffer.byteLength(JSON.stringify(metadata)) : 0);
    return {
      dataKeyId: blobKeyId(valueCiphertext),
      valueCiphertext,
      attrsCiphertext,
      tokens,
      tags: tagHashes,
      sizeBytes,
    };
  }

  /** Drops the tenant's cached data keys: the next seal reads the current key from the database. */
  forget(tenantId: string): void {
    this.crypto.forget(tenantId);
  }

  sealValue(at: RecordLocation, value: unknown): Promise<Buffer> {
    return this.crypto.encrypt(at, JSON.stringify(value));
  }

  /** `#` cannot occur in a key: attributes never share an AAD with a value. */
  sealAttributes(at: RecordLocation, attrs: RecordAttributes): Promise<Buffer> {
    return this.crypto.encrypt({ ...at, key: at.key + ATTRS_SUFFIX }, JSON.stringify(attrs));
  }

  async openValue(record: StoredRecord): Promise<unknown> {
    return JSON.parse((await this.open(record, record, record.valueCiphertext)).toString('utf8'));
  }

  async openAttributes(record: StoredRecord): Promise<RecordAttributes> {
    if (!record.attrsCiphertext) return { tags: [], metadata: null };
    const plain = await this.open(
      record,
      { ...record, key: record.key + ATTRS_SUFFIX },
      record.attrsCiphertext,
    );
    return JSON.parse(plain.toString('utf8')) as RecordAttributes;
  }

  /**
   * A blob naming a data key the tenant never had was copied from another tenant's row: that is
   * `ciphertext_invalid`, not an erasure (which leaves the tenant without any data key).
   */
  private async open(record: StoredRecord, ctx: RecordLocation, blob: Buffer): Promise<Buffer> {
    try {
      return await this.crypto.decrypt(ctx, blob);
    } catch (err) {
      if (err instanceof DataKeyDestroyedError && (await this.dataKeys.findCurrent(record.tenantId))) {
        throw DecryptionError.altered();
      }
      throw err;
    }
  }

  /**
   * Keyed hashes of the normalised words of every string and number in the value. PII
   * placeholders are not words (`<EMAIL>` would match every query that held any email); a hash
   * placeholder counts as its digest alone.
   */
  searchTokens(tenantId: string, value: unknown): Promise<string[]> {
    return this.crypto.blindIndex(tenantId, searchableWithoutPlaceholders(searchableText(value)));
  }

  /** Keyed hashes of a search query's words (same normalisation, placeholder rule and key as the index). */
  queryTokens(tenantId: string, query: string): Promise<string[]> {
    return this.crypto.blindIndex(tenantId, searchableWithoutPlaceholders(query), {
      maxTokens: QUERY_TOKENS,
    });
  }

  /** Whether a query has any word at all, before PII handling (else it is a 400, not "no match"). */
  hasSearchableWords(query: string): boolean {
    return normalizeTokens(query, { maxTokens: 1 }).length > 0;
  }

  /**
   * One keyed hash per tag, exact (no tokenising): the tag is hex-encoded so the blind index
   * sees a single token, then hashed with the tenant's index key.
   */
  async tagHashes(tenantId: string, tags: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const tag of new Set(tags)) {
      const token = `tag${Buffer.from(tag, 'utf8').toString('hex')}`;
      const [hash] = await this.crypto.blindIndex(tenantId, token, {
        minLength: 1,
        maxLength: 4096,
        maxTokens: 1,
      });
      if (hash) out.push(hash);
    }
    return out;
  }
}

/** The words of a JSON value: its strings and numbers (not its object keys), space-separated. */
export function searchableText(value: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const visit = (v: unknown, depth: number): void => {
    if (length > MAX_SEARCH_TEXT || depth > 64) return;
    if (typeof v === 'string' || typeof v === 'number') {
      const s = String(v);
      parts.push(s);
      length += s.length + 1;
    } else if (Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
    } else if (v && typeof v === 'object') {
      for (const item of Object.values(v)) visit(item, depth + 1);
    }
  };
  visit(value, 0);
  return parts.join(' ');
}
