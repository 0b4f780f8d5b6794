import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AtpError } from '@app/common';
import { readCookie } from './console-session';
import { ConsoleSessionService } from './console-session.service';
import { ConsoleOidcService, OIDC_STATE_COOKIE } from './console-oidc.service';

function stateCookie(value: string | null, secure: boolean): string {
  // Lax, not Strict: the provider's redirect back is a cross-site navigation that must carry it.
  const attrs = [
    `${OIDC_STATE_COOKIE}=${value ?? ''}`,
    'Path=/console/oidc',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${value ? 600 : 0}`,
  ];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

/** Browser navigations of the OIDC sign-in (redirects, not JSON). */
@ApiExcludeController()
@Controller('console')
export class ConsoleOidcController {
  constructor(
    private readonly oidc: ConsoleOidcService,
    private readonly sessions: ConsoleSessionService,
  ) {}

  /** Public: tells the sign-in page whether to offer OIDC. */
  @Get('api/config')
  config() {
    return { oidc: this.oidc.enabled };
  }

  @Get('oidc/login')
  async login(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const secure = req.protocol === 'https';
    try {
      const { url, state } = await this.oidc.begin(`${req.protocol}://${req.host}/console/oidc/callback`);
      void reply.header('set-cookie', stateCookie(state, secure)).redirect(url, 303);
    } catch (err) {
      this.failed(reply, err);
    }
  }

  @Get('oidc/callback')
  async callback(
    @Query() q: { code?: string; state?: string; error?: string },
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const secure = req.protocol === 'https';
    const cookieState = readCookie(req.headers.cookie, OIDC_STATE_COOKIE);
    try {
      const caller = await this.oidc.complete(q, cookieState, req, reply);
      await this.sessions.open(caller, req, reply);
      // Fastify appends a second Set-Cookie: the session, then the state cookie cleared.
      void reply.header('set-cookie', stateCookie(null, secure)).redirect('/console#/overview', 303);
    } catch (err) {
      void reply.header('set-cookie', stateCookie(null, secure));
      this.failed(reply, err);
    }
  }

  /** Back to the sign-in page with the error's code (never a token or a code in the URL). */
  private failed(reply: FastifyReply, err: unknown): void {
    const code = err instanceof AtpError ? err.code : 'oidc_failed';
    void reply.redirect(`/console#/signin?error=${encodeURIComponent(code ?? 'oidc_failed')}`, 303);
  }
}
