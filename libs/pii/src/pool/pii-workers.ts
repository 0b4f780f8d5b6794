import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AtpError } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { ApplyOptions, PiiJsonResult, PiiMode, PiiResult } from '../pii.types';
import type { EntitiesAs } from './pii-job';
import { PiiPool, PiiPoolBusyError } from './pii-pool';

/**
 * A service's PII worker threads (ATP_PII_WORKERS), as a Nest provider: large texts (prompts in the
 * router, memory values and the PII API in the gateway) are scanned off the event loop, small ones
 * inline. A full queue answers 503 with Retry-After instead of letting work pile up behind a few
 * huge requests.
 */
@Injectable()
export class PiiWorkers implements OnApplicationShutdown {
  private readonly pool: PiiPool;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.pool = new PiiPool({ size: config.env.ATP_PII_WORKERS });
  }

  /** See PiiPool.apply; `entities` says how findings come back ('none' spares the loop most). */
  apply(text: string, mode: PiiMode, options?: ApplyOptions, entities?: EntitiesAs): Promise<PiiResult> {
    return this.pool.apply(text, mode, options, entities).catch(rethrowBusy);
  }

  applyJson(
    value: unknown,
    mode: PiiMode,
    options?: ApplyOptions,
    entities?: EntitiesAs,
  ): Promise<PiiJsonResult> {
    return this.pool.applyJson(value, mode, options, entities).catch(rethrowBusy);
  }

  onApplicationShutdown(): Promise<void> {
    return this.pool.close();
  }
}

function rethrowBusy(err: unknown): never {
  if (err instanceof PiiPoolBusyError) {
    throw new AtpError(503, 'pii_busy', 'PII detection is at capacity; retry in a moment', {
      headers: { 'retry-after': '1' },
    });
  }
  throw err;
}
