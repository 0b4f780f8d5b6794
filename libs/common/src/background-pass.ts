/**
 * A pass of background work (a sweep of expired rows) that runs on a timer and on demand, one at
 * a time per process: a call while a pass runs joins it. `stop` clears the timer and waits for
 * the running pass, so a shutdown never cuts one in half.
 */
export class BackgroundPass {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(private readonly pass: () => Promise<number>) {}

  /** Runs the pass every `intervalMs` (the timer never keeps the process alive); a failure goes to `onError`. */
  every(intervalMs: number, onError: (err: Error) => void): void {
    this.timer = setInterval(() => {
      this.run().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  /** Runs the pass now, or joins the one running. @returns what it reports (rows handled) */
  run(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
