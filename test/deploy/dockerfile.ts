import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// A small reader for our Dockerfiles and .dockerignore, so the image test follows the real
// files instead of a copy of their steps.

export interface Instruction {
  op: string;
  /** Flags such as --from=build, in order. */
  flags: string[];
  /** The rest of the line (continuations joined). */
  rest: string;
}

export interface Stage {
  name?: string;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(path: string): Stage[] {
  const logical = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op, ...words] = line.split(/\s+/);
    const flags: string[] = [];
    while (words[0]?.startsWith('--')) flags.push(words.shift()!);
    const rest = words.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ base: m![1], name: m![2], instructions: [] });
      continue;
    }
    if (!stages.length) continue; // ARG before the first FROM
    stages[stages.length - 1].instructions.push({ op: op.toUpperCase(), flags, rest });
  }
  return stages;
}

/** ENV k=v k2=v2 → {k: v, k2: v2} (the forms our Dockerfiles use). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.op === 'ENV')) {
    for (const m of i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
}

/** Docker's rule: the last matching pattern decides; a pattern also matches everything below a match. */
export function dockerignoreFilter(root: string): (path: string) => boolean {
  const rules = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => {
          if (part === '**/') return '(?:.*/)?';
          if (part === '**') return '.*';
          if (part === '*') return '[^/]*';
          if (part === '?') return '[^/]';
          return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path: string) => {
    let included = true;
    for (const r of rules) if (r.re.test(path)) included = r.negate;
    return included;
  };
}
