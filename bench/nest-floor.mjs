// "Nest floor": the stack the router is built on (NestJS on Fastify, undici to the upstream)
// doing nothing but the pass-through: parse the JSON body, forward it, parse the answer, send it.
// No auth, limits, budget, audit, usage, logging or metrics. It bounds what any gateway written
// on this stack can reach on this machine. Plain JS: decorators are applied as functions.
//   node bench/nest-floor.mjs <port> <upstream origin>
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: 256 });

class FloorController {
  async create(body) {
    const res = await pool.request({
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return res.body.json();
  }
  health() {
    return { status: 'ok' };
  }
}
const proto = FloorController.prototype;
Body()(proto, 'create', 0);
Post('v1/chat/completions')(proto, 'create', Object.getOwnPropertyDescriptor(proto, 'create'));
Get('health')(proto, 'health', Object.getOwnPropertyDescriptor(proto, 'health'));
Controller()(FloorController);
class FloorModule {}
Module({ controllers: [FloorController] })(FloorModule);

const app = await NestFactory.create(FloorModule, new FastifyAdapter({ logger: false }), { logger: false });
await app.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
