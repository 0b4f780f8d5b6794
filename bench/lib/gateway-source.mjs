// The memory gateway's own TypeScript, loaded into a bench process (bench/memory-seed.mjs): compiled
// on the fly with the options jest uses (@swc/core, decorators and their metadata), `@app/<lib>`
// resolved to libs/<lib>/src as tsconfig's paths do. The bench then runs the gateway's code itself,
// not a copy of it.
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from '@swc/core';
import { root } from './stack.mjs';

/** The options jest compiles the repository's TypeScript with (jest.config.js), so both agree. */
const [, SWC] = createRequire(import.meta.url)('../../jest.config.js').projects[0].transform['^.+\\.(t|j)s$'];

let registered = false;

function register() {
  if (registered) return;
  registered = true;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const lib = /^@app\/([a-z-]+)$/.exec(request);
    return resolve.call(this, lib ? join(root, 'libs', lib[1], 'src', 'index.ts') : request, ...rest);
  };
  Module._extensions['.ts'] = (module, filename) => {
    const { code } = transformSync(readFileSync(filename, 'utf8'), { ...SWC, filename });
    module._compile(code, filename);
  };
}

/** `require` for the repository's TypeScript sources (paths relative to the repository root). */
export function gatewaySource() {
  register();
  const require = createRequire(join(root, 'package.json'));
  require('reflect-metadata');
  return (path) => require(join(root, path));
}
