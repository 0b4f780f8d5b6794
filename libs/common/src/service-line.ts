/**
 * A JSON log line written straight to stdout (stderr for ERROR), for the moments no logger
 * exists: start-up banners, shutdown, and the cluster primary, which never builds an app.
 */
export function serviceLine(severity: 'INFO' | 'WARN' | 'ERROR', service: string, message: string): void {
  const out = severity === 'ERROR' ? process.stderr : process.stdout;
  out.write(JSON.stringify({ severity, service, message, time: new Date().toISOString() }) + '\n');
}
