/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep input order.
 * A rejected call rejects the whole map, so callers that want per-item outcomes catch inside `fn`.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const width = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** Splits `items` into consecutive chunks that respect a count limit and an optional size budget. */
export function chunk<T>(items: readonly T[], maxCount: number, sizeOf?: (item: T) => number, maxSize = Infinity): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const itemSize = sizeOf ? sizeOf(item) : 0;
    if (current.length > 0 && (current.length >= maxCount || size + itemSize > maxSize)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemSize;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
