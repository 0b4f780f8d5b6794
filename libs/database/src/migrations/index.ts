import { Baseline1764140000000 } from './1764140000000-baseline';
import { Auth1764140100000 } from './1764140100000-auth';
import { Audit1764140200000 } from './1764140200000-audit';
import { Usage1764140300000 } from './1764140300000-usage';
import { Memory1764140400000 } from './1764140400000-memory';
import { Console1764140500000 } from './1764140500000-console';
import { StoredResponses1764140600000 } from './1764140600000-stored-responses';
import { MemoryIndexVersion1764140650000 } from './1764140650000-memory-index-version';
import { MemoryQuota1796633756285 } from './1796633756285-memory-quota';

/** Every migration, in order. Listed explicitly so the bundled apps need no file globbing. */
export const MIGRATIONS = [
  Baseline1764140000000,
  Auth1764140100000,
  Audit1764140200000,
  Usage1764140300000,
  Memory1764140400000,
  Console1764140500000,
  StoredResponses1764140600000,
  MemoryIndexVersion1764140650000,
  MemoryQuota1796633756285,
];
