import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { SqlRunner } from '@app/database';
import { DataKeyRepository } from './data-key.repository';
import { ErasureListener } from './erasure-listener';
import { TenantCrypto } from './tenant-crypto';

/**
 * Envelope encryption of tenant data in both services: {@link TenantCrypto} over the
 * `memory_data_keys` table, under the `ENCRYPTION_KEY` ring. The memory gateway encrypts memory
 * with it, the router its stored responses: one data key per tenant, so one erasure
 * (crypto-shredding) makes both unreadable.
 */
@Module({
  providers: [
    // The repositories here and the stored responses' run their SQL through it.
    { provide: SqlRunner, inject: [DataSource], useFactory: (ds: DataSource) => new SqlRunner(ds) },
    DataKeyRepository,
    {
      provide: TenantCrypto,
      useFactory: (config: AppConfig, keys: DataKeyRepository) =>
        new TenantCrypto(config.encryptionKeys, keys),
      inject: [APP_CONFIG, DataKeyRepository],
    },
    ErasureListener,
  ],
  exports: [SqlRunner, DataKeyRepository, TenantCrypto, ErasureListener],
})
export class TenantCryptoModule {}
