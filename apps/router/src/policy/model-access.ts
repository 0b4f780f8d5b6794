import type { Limits } from '@app/auth';

/**
 * The model allow-list of a tenant and of its key: both apply. An entry is a catalog id, a route
 * alias, a provider-qualified id, or a prefix ending in `*` (`openai/*`, `gpt-4o*`). A list that is
 * not set allows everything; an empty list allows nothing.
 */
export function modelAllowed(
  names: readonly string[],
  lists: readonly (readonly string[] | undefined)[],
): boolean {
  return lists.every((list) => list === undefined || names.some((n) => listed(n, list)));
}

function listed(name: string, list: readonly string[]): boolean {
  for (const entry of list) {
    if (entry === name) return true;
    if (entry.endsWith('*') && name.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

export function allowLists(tenant: Limits, key: Limits | null): (string[] | undefined)[] {
  return [tenant.allowedModels, key?.allowedModels];
}
