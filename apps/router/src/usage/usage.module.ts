import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SPEND_SOURCE } from '../limits/spend-source';
import { CallAuditService } from './call-audit.service';
import { UsageController } from './usage.controller';
import { UsageRecordEntity } from './usage-record.entity';
import { UsageRecorder } from './usage-recorder';
import { UsageSpendSource } from './usage-spend-source';
import { UsageRepository } from './usage.repository';

@Module({
  imports: [TypeOrmModule.forFeature([UsageRecordEntity])],
  controllers: [UsageController],
  providers: [
    UsageRepository,
    UsageRecorder,
    CallAuditService,
    { provide: SPEND_SOURCE, useClass: UsageSpendSource },
  ],
  exports: [UsageRecorder, UsageRepository, CallAuditService, SPEND_SOURCE],
})
export class UsageModule {}
