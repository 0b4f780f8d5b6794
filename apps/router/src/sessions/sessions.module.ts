import { Module } from '@nestjs/common';
import { SessionMemoryClient } from './session-memory.client';

/** `x-atp-session-id`: conversation turns kept in the memory gateway. */
@Module({
  providers: [SessionMemoryClient],
  exports: [SessionMemoryClient],
})
export class SessionsModule {}
