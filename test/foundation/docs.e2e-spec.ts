import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayEnvSchema, routerEnvSchema } from '@app/config';
import { REPO_ROOT } from '@app/testing';

/** README and .env.example stay true to the config schemas: every variable the apps read is documented. */
describe('configuration docs', () => {
  const names = [...new Set([...Object.keys(routerEnvSchema.shape), ...Object.keys(gatewayEnvSchema.shape)])];
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const example = readFileSync(join(REPO_ROOT, '.env.example'), 'utf8');

  it.each(names)('%s is in the README configuration table and in .env.example', (name) => {
    expect(readme).toContain(`\`${name}\``);
    expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});
