/**
 * Heavy synchronous work that must stay on the event loop (parsing a large JSON body, encoding a
 * large upstream body), run in slices: at most ONE slice per turn of the loop, first come first
 * served, each slice from a `setImmediate`.
 *
 * Why a lane and not just `setImmediate`: four 1 MB prompts that arrive together would otherwise
 * run their parses back to back in one turn (4 × ~10 ms), and a `/health` that arrived meanwhile
 * waits for all four (issue 15: p99 74–114 ms). Through the lane, the loop polls sockets between
 * two slices, so any other request waits for one slice at most. Small work never comes here: a
 * slice costs a turn of the loop (tens of microseconds) in latency.
 */
export class LoopLane {
  private readonly queue: Array<() => void> = [];
  private scheduled = false;

  /** Runs `slice` in its own turn of the loop, after every slice queued before it. */
  run<T>(slice: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(slice());
        } catch (err) {
          reject(err);
        }
      });
      this.schedule();
    });
  }

  /** Slices waiting for their turn (for tests and diagnostics). */
  get waiting(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // An immediate queued while immediates run goes to the NEXT turn: the poll phase (sockets,
    // other requests) comes between two slices.
    setImmediate(this.next);
  }

  private readonly next = (): void => {
    this.scheduled = false;
    this.queue.shift()?.();
    this.schedule();
  };
}

/** The process's lane: there is one event loop, so there is one lane. */
export const heavyWork = new LoopLane();
