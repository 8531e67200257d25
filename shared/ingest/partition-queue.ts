// The batches pull ingestion has taken from kafkajs but not yet stored. kafkajs fetches the next round only
// once every batch of the last one has been handled; handing batches over to this queue lets it fetch
// while PostgreSQL still writes. Each partition's batches run one after another, in the order given (a
// batch's transaction checks the offset the one before it stored); different partitions run side by side.

export class PartitionQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private waiting: (() => void)[] = [];
  /** Batches queued or being stored. */
  size = 0;

  /**
   * @param limit how many batches may be queued or stored at once before room() waits
   * @param onError called with what a task throws (tasks should settle their own errors)
   */
  constructor(
    private readonly limit: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs `task` once the partition's earlier tasks have settled. */
  push(partition: string, task: () => Promise<void>): void {
    this.size += 1;
    const tail = (this.tails.get(partition) ?? Promise.resolve())
      .then(task)
      .catch(this.onError)
      .finally(() => {
        this.size -= 1;
        if (this.tails.get(partition) === tail) this.tails.delete(partition);
        this.wake();
      });
    this.tails.set(partition, tail);
  }

  /** Resolves once fewer than `limit` batches are queued or being stored. */
  async room(): Promise<void> {
    while (this.size >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Resolves once the tasks pushed so far for these partitions have settled. */
  async settled(partitions: readonly string[]): Promise<void> {
    await Promise.all(partitions.map((partition) => this.tails.get(partition)));
  }

  /** Resolves once every task pushed so far has settled. */
  async drain(): Promise<void> {
    while (this.size > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
