/** The console's calls to its own API (/console/api, same origin, session cookie). */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
    readonly param: string | null,
  ) {
    super(message);
  }
}

export interface Session {
  tenant_id: string;
  tenant_name: string;
  subject: string;
  scopes: string[];
  expires_at: string;
  csrf_token: string;
  platform_admin?: boolean;
  tenants?: { id: string; name: string }[];
}

/** Held in memory only: the CSRF token is re-read from GET /session after a reload. */
let csrf: string | null = null;
let tenant: string | null = null;
let onSignedOut: (message: string) => void = () => undefined;

export function setSession(s: Session | null): void {
  csrf = s?.csrf_token ?? null;
}

export function setTenant(id: string | null): void {
  tenant = id;
}

export function currentTenant(): string | null {
  return tenant;
}

export function whenSignedOut(fn: (message: string) => void): void {
  onSignedOut = fn;
}

/** A console API path with the tenant being viewed (platform admins switch with it). */
export function apiPath(
  path: string,
  query: Record<string, string | number | undefined | null> = {},
): string {
  const q = new URLSearchParams();
  if (tenant) q.set('tenant', tenant);
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `/console/api/${path}${qs ? `?${qs}` : ''}`;
}

export async function call<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  opts: { signIn?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('The router did not answer: check that it is running and reachable.', 0, null, null);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: described below
  }
  if (!res.ok) {
    const e = (json as { error?: { message?: string; code?: string; param?: string } } | null)?.error;
    const err = new ApiError(
      e?.message ?? `The console API answered ${res.status} ${res.statusText}`,
      res.status,
      e?.code ?? null,
      e?.param ?? null,
    );
    if (res.status === 401 && !opts.signIn) onSignedOut(err.message);
    throw err;
  }
  return json as T;
}

export const get = <T>(path: string, query?: Record<string, string | number | undefined | null>) =>
  call<T>('GET', apiPath(path, query));
