import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './migrate';

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
            return ds;
          },
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
