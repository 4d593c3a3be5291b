/**
 * Bounds concurrent model executions, like an inference server's model
 * instances: requests beyond `concurrency` wait in a FIFO queue of at most
 * `maxQueue` entries, and the time spent waiting is reported as queue time.
 */
export class QueueFullError extends Error {
  constructor() {
    super('Inference queue is full');
    this.name = 'QueueFullError';
  }
}

export class ConcurrencyLimiter {
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly #waiting: (() => void)[] = [];
  #active = 0;

  constructor(concurrency: number, maxQueue: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error('concurrency must be a positive integer');
    if (!Number.isInteger(maxQueue) || maxQueue < 0)
      throw new Error('maxQueue must be a non-negative integer');
    this.concurrency = concurrency;
    this.maxQueue = maxQueue;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a slot is free; resolves with its result and the seconds spent queued. */
  async run<T>(
    task: () => Promise<T>,
  ): Promise<{ value: T; queueSeconds: number }> {
    const queuedAt = performance.now();
    if (this.#active >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueue) throw new QueueFullError();
      await new Promise<void>(resolve => this.#waiting.push(resolve));
    } else {
      this.#active += 1;
    }
    const queueSeconds = (performance.now() - queuedAt) / 1000;
    try {
      return { value: await task(), queueSeconds };
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, or release it.
      if (next) next();
      else this.#active -= 1;
    }
  }
}
