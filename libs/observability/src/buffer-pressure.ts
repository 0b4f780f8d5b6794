import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { counter, gauge } from './metrics';

/** A queue of work the service has acknowledged but not yet written (usage rows, audit events…). */
export interface BoundedBuffer {
  /** Metric label, e.g. `usage_rows`. */
  name: string;
  /** Items at which the service stops taking new requests (503) until the buffer drains below it. */
  limit: number;
  depth(): number;
}

/** Every live instance (tests boot several apps in one process; the metrics are per process). */
const live = new Set<BufferPressure>();

const depthGauge = () =>
  gauge({
    name: 'atp_buffer_depth',
    help: 'Items waiting in a write buffer (usage rows, audit events, settlement retries…)',
    labelNames: ['buffer'],
    collect() {
      this.reset();
      for (const p of live) for (const b of p.buffers) this.inc({ buffer: b.name }, b.depth());
    },
  });
const limitGauge = () =>
  gauge({
    name: 'atp_buffer_limit',
    help: 'Depth of a write buffer at which new requests are refused with 503',
    labelNames: ['buffer'],
    collect() {
      this.reset();
      for (const p of live) for (const b of p.buffers) this.set({ buffer: b.name }, b.limit);
    },
  });

/**
 * The service's write buffers and their bounds. Past a bound the service sheds NEW requests with
 * 503 (http-app's onRequest hook asks {@link full}) instead of growing the buffer or dropping what
 * it already acknowledged: requests in flight still add their rows, so a buffer can exceed its
 * limit by at most the requests in flight at that moment.
 */
@Injectable()
export class BufferPressure implements OnModuleDestroy {
  readonly buffers: BoundedBuffer[] = [];
  private readonly shedTotal = counter({
    name: 'atp_buffer_shed_total',
    help: 'Requests refused with 503 because a write buffer was at its bound',
    labelNames: ['buffer'],
  });

  constructor() {
    depthGauge();
    limitGauge();
    live.add(this);
  }

  register(buffer: BoundedBuffer): void {
    this.buffers.push(buffer);
  }

  /** The first buffer at or past its bound (null when there is room everywhere). */
  full(): BoundedBuffer | null {
    for (const b of this.buffers) if (b.depth() >= b.limit) return b;
    return null;
  }

  /** Counts a request refused because of `buffer`. */
  shed(buffer: BoundedBuffer): void {
    this.shedTotal.inc({ buffer: buffer.name });
  }

  onModuleDestroy(): void {
    live.delete(this);
  }
}
