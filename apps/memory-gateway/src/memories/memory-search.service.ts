import { Injectable } from '@nestjs/common';
import { AtpError } from '@app/common';
import type { Caller } from '@app/auth';
import { MemoriesService } from './memories.service';
import { MemoryCodec } from './memory.codec';
import type { SearchMemoryDto, SearchResultDto } from './memory.dto';
import { MemoryPii } from './memory-pii';
import { MemorySearchRepository } from './memory-search.repository';
import { assertName } from './memory-names';

/**
 * Search without plaintext: the query's words are normalised and hashed with the tenant's
 * blind-index key exactly as stored values were, and records rank by how many hashed words they
 * share with the query (score = matched / query words).
 */
@Injectable()
export class MemorySearchService {
  constructor(
    private readonly repository: MemorySearchRepository,
    private readonly codec: MemoryCodec,
    private readonly pii: MemoryPii,
    private readonly memories: MemoriesService,
  ) {}

  async search(
    caller: Caller,
    namespace: string,
    body: SearchMemoryDto,
  ): Promise<{ results: SearchResultDto[] }> {
    const ns = assertName(namespace, 'namespace');
    return this.memories.tracked(
      'search',
      caller,
      'memory.search',
      { namespace: ns, key: null },
      async () => {
        if (!this.codec.hasSearchableWords(body.query)) {
          throw AtpError.badRequest(
            'invalid_query',
            'query has no searchable words (words are letters or digits, at least 2 characters)',
            'query',
          );
        }
        const query = await this.pii.handleQuery(caller.tenantId, ns, caller, body.query);
        const tokens = await this.codec.queryTokens(caller.tenantId, query);
        // Only PII (dropped, see MemoryPii.handleQuery) or placeholders: nothing can match it.
        if (!tokens.length) return { value: { results: [] }, status: 200 };
        const tags = await this.codec.tagHashes(caller.tenantId, body.tags ?? []);
        const hits = await this.repository.searchRecords({
          tenantId: caller.tenantId,
          namespace: ns,
          tokens,
          tags,
          limit: body.limit ?? 10,
          now: Date.now(),
        });
        const results: SearchResultDto[] = await Promise.all(
          hits.map(async (hit) => ({
            ...(await this.memories.open(hit.record)),
            score: Math.round((hit.matches / tokens.length) * 10_000) / 10_000,
            matched_terms: hit.matches,
          })),
        );
        return { value: { results }, status: 200 };
      },
    );
  }
}
