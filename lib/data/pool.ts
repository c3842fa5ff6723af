// A bounded work pool that runs tasks concurrently but hands results back in input order.

/** Outcome of one task: its value, or the error it threw. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `work` over `items` with at most `concurrency` in flight and calls `consume`
 * strictly in input order, so output (record keys, skip lists) never depends on timing.
 * Holding finished results until their turn bounds memory by the in-flight window.
 */
export async function mapInOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
  consume: (result: Settled<R>, item: T, index: number) => void | Promise<void>,
): Promise<void> {
  const finished = new Map<number, Settled<R>>();
  let nextToStart = 0;
  let nextToConsume = 0;
  let wake: (() => void) | undefined;
  const start = (): void => {
    const index = nextToStart++;
    work(items[index]!, index).then(
      (value) => finished.set(index, { ok: true, value }),
      (error: unknown) => finished.set(index, { ok: false, error }),
    ).finally(() => wake?.());
  };
  while (nextToConsume < items.length) {
    while (nextToStart < items.length && nextToStart - nextToConsume < concurrency) start();
    const ready = finished.get(nextToConsume);
    if (ready === undefined) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    finished.delete(nextToConsume);
    await consume(ready, items[nextToConsume]!, nextToConsume);
    nextToConsume++;
  }
}
