import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Controller, Get, Logger, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AtpError } from '@app/common';

/**
 * The page's policy: scripts, styles, images and API calls from this origin only — no inline
 * script or style, no framing, no plugins, forms post only here.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

interface Assets {
  index: Buffer;
  files: Map<string, { body: Buffer; type: string }>;
}

/**
 * Where `npm run build` puts the console: beside the bundled router (dist/apps/router/console),
 * or under the working directory when the router runs from source (tests, start:dev).
 */
function assetDirs(): string[] {
  return [join(__dirname, 'console'), join(process.cwd(), 'dist', 'apps', 'router', 'console')];
}

/** Reads the built console once: index.html and the hashed files (nothing else is ever served). */
function loadAssets(): Assets | null {
  const dir = assetDirs().find((d) => existsSync(join(d, 'index.html')));
  if (!dir) return null;
  const files = new Map<string, { body: Buffer; type: string }>();
  const assets = join(dir, 'assets');
  if (existsSync(assets)) {
    for (const name of readdirSync(assets)) {
      const type = TYPES[extname(name)];
      if (type) files.set(name, { body: readFileSync(join(assets, name)), type });
    }
  }
  return { index: readFileSync(join(dir, 'index.html')), files };
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

/** Serves the console's page and its content-hashed assets (cached for a year: a new build has new names). */
@ApiExcludeController()
@Controller('console')
export class ConsoleStaticController {
  private readonly logger = new Logger('Console');
  private assets: Assets | null | undefined;

  private built(): Assets | null {
    if (this.assets === undefined) {
      this.assets = loadAssets();
      if (!this.assets) this.logger.warn('console assets not found: run npm run build');
    }
    return this.assets;
  }

  @Get()
  page(@Res() reply: FastifyReply): void {
    const assets = this.built();
    securityHeaders(reply).header('cache-control', 'no-store');
    if (!assets) {
      void reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build` (it builds the router and the console).');
      return;
    }
    void reply.type('text/html; charset=utf-8').send(assets.index);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    const hit = this.built()?.files.get(file);
    if (!hit) throw AtpError.notFound('not_found', 'No such console asset');
    void securityHeaders(reply)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(hit.type)
      .send(hit.body);
  }
}
