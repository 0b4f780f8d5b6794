import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { KV_STORE, type KvStore } from '@app/cache';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { LIVENESS_SCHEMA, readinessSchema } from './health.openapi';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(KV_STORE) private readonly kv: KvStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Liveness: the process serves. Touches no dependency, so a database outage never restarts us. */
  @Get('health')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves; touches no dependency (no credential)' })
  @ApiOkResponse({ schema: LIVENESS_SCHEMA })
  live(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.config.app };
  }

  /** Readiness: the database answers, and Redis when one is configured. 503 with detail otherwise. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the database (and Redis, when configured) answer (no credential)' })
  @ApiOkResponse({ schema: readinessSchema('ok') })
  @ApiServiceUnavailableResponse({
    schema: readinessSchema('error'),
    description: 'A dependency is down (Retry-After: 5)',
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks: HealthIndicatorFunction[] = [() => this.db.pingCheck('database', { timeout: 2000 })];
    if (this.kv.kind === 'redis') {
      checks.push(async () => {
        const session = this.indicators.check('redis');
        try {
          await this.kv.ping(1500);
          return session.up();
        } catch (err) {
          return session.down({ message: (err as Error).message });
        }
      });
    }
    try {
      return await this.health.check(checks);
    } catch (err) {
      // Keep terminus' per-dependency detail (what probes and operators read) rather than the
      // generic error envelope.
      if (err instanceof ServiceUnavailableException) {
        reply.status(503).header('retry-after', '5');
        return err.getResponse();
      }
      throw err;
    }
  }
}
