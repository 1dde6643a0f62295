import { gate } from '../../src/core/gate';

test('a gate of 2 runs at most 2 calls at once, in order, and passes results and errors through', async () => {
  const run = gate(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const call = (i: number) =>
    run(async () => {
      active++;
      peak = Math.max(peak, active);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      if (i === 3) throw new Error('three');
      return i * 10;
    });
  const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(call));
  expect(peak).toBe(2);
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 10, 20, 'three', 40, 50]);
  // Free again afterwards: a new call runs at once.
  await expect(run(async () => 'again')).resolves.toBe('again');
});
