import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsageController } from './usage.controller';
import { UsageRecordEntity } from './usage-record.entity';
import { UsageRecorder } from './usage-recorder';
import { UsageRepository } from './usage.repository';

@Module({
  imports: [TypeOrmModule.forFeature([UsageRecordEntity])],
  controllers: [UsageController],
  providers: [UsageRepository, UsageRecorder],
  exports: [UsageRecorder, UsageRepository],
})
export class UsageModule {}
