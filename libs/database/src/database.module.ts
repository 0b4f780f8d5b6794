import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { POSTGRESQL } from '@app/common';
import type { AppConfig } from '@app/config';
import { dependencyOutage } from '@app/observability';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './migrate';

async function probe(ds: DataSource): Promise<void> {
  if (!ds.isInitialized) throw new Error('the data source is closed');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ds.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('probe timed out')), 2000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

@Module({})
export class DatabaseModule {
  /**
   * The app's one DataSource. Feature modules add their entities with
   * `TypeOrmModule.forFeature` (autoLoadEntities). Development and test starts apply pending
   * migrations; production never does (a Cloud Run Job runs `npm run migrate` once per deploy).
   */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(config.database),
            autoLoadEntities: true,
            retryAttempts: config.production ? 10 : 2,
            retryDelay: 2000,
          }),
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options!).initialize();
            if (!config.production) await runMigrations(ds);
            // While PostgreSQL is down, a SELECT 1 each second notices its return (the outage
            // reporter then logs the end of the outage once).
            if (ds.options.type === 'postgres') dependencyOutage(POSTGRESQL).setProbe(() => probe(ds));
            return ds;
          },
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
