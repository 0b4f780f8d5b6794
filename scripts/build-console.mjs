#!/usr/bin/env node
// Builds the admin console (apps/router/console-ui) into dist/apps/router/console: one bundled
// script and one stylesheet, each named by a hash of its content (so the router may cache them
// for a year), and index.html pointing at them. webpack + ts-loader are the ones `nest build`
// already uses: the console adds no build dependency.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'apps', 'router', 'console-ui');
const out = join(root, 'dist', 'apps', 'router', 'console');
const assets = join(out, 'assets');

const hash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 12);

function bundle() {
  return new Promise((resolve, reject) => {
    webpack(
      {
        mode: 'production',
        context: src,
        entry: './src/main.ts',
        target: ['web', 'es2020'],
        devtool: false,
        output: {
          path: assets,
          filename: 'app.[contenthash:12].js',
          publicPath: '/console/assets/',
          clean: false,
        },
        resolve: { extensions: ['.ts', '.js'] },
        module: {
          rules: [
            { test: /\.ts$/, loader: 'ts-loader', options: { configFile: join(src, 'tsconfig.json') } },
          ],
        },
        performance: { hints: false },
        infrastructureLogging: { level: 'error' },
      },
      (err, stats) => {
        if (err) return reject(err);
        if (stats.hasErrors()) return reject(new Error(stats.toString({ all: false, errors: true })));
        const js = Object.keys(stats.compilation.assets).find((f) => f.endsWith('.js'));
        resolve(js);
      },
    );
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const script = await bundle();
const css = readFileSync(join(src, 'src', 'style.css'));
const style = `style.${hash(css)}.css`;
writeFileSync(join(assets, style), css);
const html = readFileSync(join(src, 'index.html'), 'utf8')
  .replace('%STYLE%', `/console/assets/${style}`)
  .replace('%SCRIPT%', `/console/assets/${script}`);
writeFileSync(join(out, 'index.html'), html);
const size = readdirSync(assets).reduce((n, f) => n + readFileSync(join(assets, f)).length, 0);
process.stdout.write(
  `console built: ${out} (${readdirSync(assets).join(', ')}; ${(size / 1024).toFixed(1)} KiB)\n`,
);
