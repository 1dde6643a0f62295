/**
 * A bounded single-consumer queue between a producer that pushes and a consumer that iterates
 * (e.g. rows pushed into a Parquet writer that pulls batches). `push` waits while the queue is
 * full, so a slow consumer slows the producer instead of growing memory.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private error: unknown;
  private wakeConsumer?: () => void;
  private wakeProducer?: () => void;

  constructor(private readonly capacity = 2) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && this.error === undefined) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.error !== undefined) throw this.error;
    this.items.push(item);
    this.wake('consumer');
  }

  end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  /** Fails the consumer (and later pushes) with `err`. */
  fail(err: unknown): void {
    this.error = err ?? new Error('queue failed');
    this.wake('consumer');
    this.wake('producer');
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      if (this.items.length) {
        const item = this.items.shift()!;
        this.wake('producer');
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  private wake(who: 'consumer' | 'producer'): void {
    const fn = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    fn?.();
  }
}
