import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { BackgroundPass } from '@app/common';
import { counter } from '@app/observability';
import { StoredResponseRepository } from './stored-response.repository';
import { RESPONSES_CLOCK } from './stored-responses';

const SWEEP_INTERVAL_MS = 60_000;
const SWEEP_BATCH = 1000;
/** Batches per pass: a backlog (after downtime) drains over a few passes, not one long burst. */
const SWEEP_BATCHES = 20;

/**
 * Deletes expired stored responses in the background (reads already hide them). Safe on several
 * replicas: each DELETE removes what it finds, a row only once.
 */
@Injectable()
export class StoredResponseSweeper implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('StoredResponseSweeper');
  private readonly pass = new BackgroundPass(() => this.sweepOnce());
  private readonly swept = counter({
    name: 'atp_responses_expired_swept_total',
    help: 'Expired stored responses deleted by the background sweeper',
  });

  constructor(
    private readonly repository: StoredResponseRepository,
    @Inject(RESPONSES_CLOCK) private readonly now: () => number,
  ) {}

  onModuleInit(): void {
    this.pass.every(SWEEP_INTERVAL_MS, (err) =>
      this.logger.warn(`sweeping expired responses failed: ${err.message}`),
    );
  }

  onApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass (one at a time per process); returns how many rows it deleted. */
  sweep(): Promise<number> {
    return this.pass.run();
  }

  private async sweepOnce(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < SWEEP_BATCHES; batch++) {
      const deleted = await this.repository.deleteExpired(this.now(), SWEEP_BATCH);
      total += deleted;
      if (deleted < SWEEP_BATCH) break;
    }
    if (total) this.swept.inc(total);
    return total;
  }
}
