import { AsyncQueue } from '../../src/core/asyncQueue';

describe('AsyncQueue', () => {
  it('delivers in order and makes the producer wait when full', async () => {
    const q = new AsyncQueue<number>(2);
    let pushed = 0;
    const producer = (async () => {
      for (let i = 0; i < 5; i++) {
        await q.push(i);
        pushed = i + 1;
      }
      q.end();
    })();
    await new Promise((r) => setImmediate(r));
    expect(pushed).toBe(2);
    const got: number[] = [];
    for await (const x of q) got.push(x);
    await producer;
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('fails the consumer and the producer', async () => {
    const q = new AsyncQueue<number>(1);
    await q.push(1);
    const blocked = q.push(2);
    q.fail(new Error('writer broke'));
    await expect(blocked).rejects.toThrow('writer broke');
    const iterate = async () => {
      for await (const _ of q) void _;
    };
    await expect(iterate()).rejects.toThrow('writer broke');
  });
});
