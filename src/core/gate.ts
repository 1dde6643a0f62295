/**
 * At most `max` calls of `run` at once; the rest wait in order. A finishing call hands its place to
 * the next waiter directly, so a newcomer cannot slip in between and exceed `max`.
 */
export function gate(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
