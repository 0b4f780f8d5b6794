/** Deeper bodies are refused with a 400 (the PII library walks values to this depth too). */
export const MAX_BODY_DEPTH = 256;

/** Nesting depth of a parsed JSON value, without recursion (so no input can exhaust the stack). */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}
