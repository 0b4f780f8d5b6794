import { Injectable } from '@nestjs/common';
import { PiiPolicy } from '../pii/pii-policy.service';
import type { Caller } from '@app/auth';
import { assertName } from './memory-names';
import { MemoryRepository } from './memory.repository';

export interface NamespaceSettings {
  namespace: string;
  /** The namespace's own PII mode; null when the key's or tenant's applies. */
  pii_mode: string | null;
}

/** Per-namespace PII modes (a namespace may choose another mode than its tenant). */
@Injectable()
export class NamespaceSettingsService {
  constructor(
    private readonly repository: MemoryRepository,
    private readonly policy: PiiPolicy,
  ) {}

  async get(caller: Caller, namespace: string): Promise<NamespaceSettings> {
    const ns = assertName(namespace, 'namespace');
    return { namespace: ns, pii_mode: await this.repository.findNamespaceMode(caller.tenantId, ns) };
  }

  /** Other replicas pick the change up within the policy's cache time (seconds). */
  async set(caller: Caller, namespace: string, mode: string | null): Promise<NamespaceSettings> {
    const ns = assertName(namespace, 'namespace');
    await this.repository.saveNamespaceMode(caller.tenantId, ns, mode, Date.now());
    this.policy.forgetNamespace(caller.tenantId, ns);
    return { namespace: ns, pii_mode: mode };
  }
}
