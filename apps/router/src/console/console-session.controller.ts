import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TenantService } from '@app/auth';
import { AtpError } from '@app/common';
import { isCrossSite } from './console-session';
import { ConsoleSessionService } from './console-session.service';
import { Console, ConsoleGuard, type ConsoleScope } from './console.guard';

/** Sign-in with an API key, the current session, sign-out. */
@ApiExcludeController()
@Controller('console/api/session')
export class ConsoleSessionController {
  constructor(
    private readonly sessions: ConsoleSessionService,
    private readonly tenants: TenantService,
  ) {}

  @Post()
  @HttpCode(200)
  async signIn(
    @Body() body: { api_key?: unknown } | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // Login CSRF: a foreign page must not sign a browser in under someone else's key.
    if (isCrossSite(req.headers))
      throw AtpError.forbidden('cross_site_request', 'Cross-site requests to the console are refused');
    const caller = await this.sessions.callerFromApiKey(body?.api_key, req, reply);
    return this.sessions.open(caller, req, reply);
  }

  @Get()
  @UseGuards(ConsoleGuard)
  async current(@Console() c: ConsoleScope) {
    const session = await this.sessions.describe(c.caller, c.expiresAt);
    const tenants = c.platformAdmin
      ? (await this.tenants.listTenants()).map((t) => ({ id: t.id, name: t.name }))
      : [{ id: session.tenant_id, name: session.tenant_name }];
    return { ...session, platform_admin: c.platformAdmin, tenants };
  }

  @Delete()
  @HttpCode(204)
  @UseGuards(ConsoleGuard)
  async signOut(
    @Console() c: ConsoleScope,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.close(c.token, req, reply);
  }
}
