import 'reflect-metadata';
import { loadDotEnv, readProcessEnv } from '@app/config';
import { runCli } from './cli';

// `npm run atp -- <command>` (scripts/atp.mjs runs this file from dist/).
loadDotEnv();
void runCli(process.argv.slice(2), {
  env: readProcessEnv(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => process.exit(code));
