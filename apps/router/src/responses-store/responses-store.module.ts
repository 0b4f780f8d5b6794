import { Module } from '@nestjs/common';
import { TenantCryptoModule } from '@app/crypto';
import { StoredResponseRepository } from './stored-response.repository';
import { StoredResponseSweeper } from './stored-response-sweeper';
import { RESPONSES_CLOCK, StoredResponses } from './stored-responses';

/** Stored responses of the Responses door: encrypted rows in the database, swept when expired. */
@Module({
  imports: [TenantCryptoModule],
  providers: [
    { provide: RESPONSES_CLOCK, useValue: () => Date.now() },
    StoredResponseRepository,
    StoredResponses,
    StoredResponseSweeper,
  ],
  exports: [StoredResponses, StoredResponseSweeper, RESPONSES_CLOCK],
})
export class ResponsesStoreModule {}
