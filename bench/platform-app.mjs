// A trivial Nest app on Express or Fastify, for bench/platform.mjs. Plain JS: decorators are
// applied as functions.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const [platform, port] = process.argv.slice(2);

class PingController {
  ping() {
    return { ok: true };
  }
}
Get('ping')(
  PingController.prototype,
  'ping',
  Object.getOwnPropertyDescriptor(PingController.prototype, 'ping'),
);
Controller()(PingController);
class AppModule {}
Module({ controllers: [PingController] })(AppModule);

let adapter;
if (platform === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  adapter = new FastifyAdapter({ logger: false });
} else {
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  adapter = new ExpressAdapter();
}
const app = await NestFactory.create(AppModule, adapter, { logger: false });
await app.listen(Number(port), '127.0.0.1');
process.stdout.write('ready\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
