import { Baseline1764140000000 } from './1764140000000-baseline';

/** Every migration, in order. Listed explicitly so the bundled apps need no file globbing. */
export const MIGRATIONS = [Baseline1764140000000];
