import { Baseline1764140000000 } from './1764140000000-baseline';
import { Auth1764140100000 } from './1764140100000-auth';
import { Audit1764140200000 } from './1764140200000-audit';
import { Usage1764140300000 } from './1764140300000-usage';
import { Memory1764140400000 } from './1764140400000-memory';
import { Console1764140500000 } from './1764140500000-console';

/** Every migration, in order. Listed explicitly so the bundled apps need no file globbing. */
export const MIGRATIONS = [
  Baseline1764140000000,
  Auth1764140100000,
  Audit1764140200000,
  Usage1764140300000,
  Memory1764140400000,
  Console1764140500000,
];
