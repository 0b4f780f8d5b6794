import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthClock } from '../clock';
import { AUTH_SETTINGS } from '../auth.tokens';
import type { AuthSettings } from '../auth-settings';
import { ApiKeyService } from '../api-keys/api-key.service';
import { isUniqueViolation } from '../db-errors';
import { type Caller, operatorCaller } from '../caller';
import { SCOPES } from '../scopes';
import { TenantRepository } from '../tenants/tenant.repository';

export const DEV_CREDENTIALS_FILE = 'dev-credentials.json';
export const DEV_TENANT_NAME = 'default';
const FILE_WAIT_MS = 3000;

const BOOTSTRAP_ACTOR: Caller = operatorCaller('bootstrap');

/**
 * Development only: on an empty database, create tenant `default` and an API key with every
 * scope, and write `{"tenant_id", "api_key"}` to `<dataDir>/dev-credentials.json` (0600). The
 * path is logged, never the key.
 *
 * Both services may start at the same moment on one database. The unique tenant name decides
 * who bootstraps: the loser's insert fails and it only points at the file. Each step is a single
 * statement (no transaction held across awaits, which two apps sharing one SQLite file in one
 * process could deadlock on); if creating the key fails, the tenant is removed again.
 */
@Injectable()
export class DevCredentialsBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('DevCredentials');

  constructor(
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
    private readonly tenants: TenantRepository,
    private readonly keys: ApiKeyService,
    private readonly clock: AuthClock,
  ) {}

  get file(): string {
    return join(this.settings.dataDir, DEV_CREDENTIALS_FILE);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.devBootstrap) return;
    if (await this.tenants.anyTenantExists()) return this.pointAtFile();
    const tenant = { id: randomUUID(), name: DEV_TENANT_NAME, createdAt: new Date(this.clock.now()) };
    try {
      await this.tenants.insertTenant(tenant);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return this.pointAtFile();
    }
    let key: string;
    try {
      ({ key } = await this.keys.createKey({
        tenantId: tenant.id,
        name: 'development admin (bootstrap)',
        scopes: [...SCOPES],
        actor: BOOTSTRAP_ACTOR,
      }));
    } catch (err) {
      await this.tenants.deleteTenant(tenant.id).catch(() => undefined);
      throw err;
    }
    this.writeCredentials(JSON.stringify({ tenant_id: tenant.id, api_key: key }, null, 2) + '\n');
    this.logger.log(`development admin credential (tenant "default", every scope) written to ${this.file}`);
  }

  /**
   * The database was bootstrapped already, maybe a moment ago by the other service, which may
   * still be writing the file: wait for it briefly, then log where it is (or how to get a key).
   */
  private async pointAtFile(): Promise<void> {
    for (let waited = 0; !existsSync(this.file) && waited < FILE_WAIT_MS; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (existsSync(this.file)) this.logger.log(`development admin credential: ${this.file}`);
    else
      this.logger.log(
        `no ${DEV_CREDENTIALS_FILE} in ${this.settings.dataDir}: create a key with "npm run atp -- keys create --tenant <id> --scopes …"`,
      );
  }

  /**
   * 'wx' + 0600: never follows or reuses a file someone else created. A file already there is
   * left over from an older database (only the process that created the tenant writes it), so
   * it is replaced atomically.
   */
  private writeCredentials(content: string): void {
    mkdirSync(this.settings.dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(this.file, content, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
      writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.file);
      this.logger.warn(`replaced ${this.file}, which belonged to an earlier database`);
    }
  }
}
