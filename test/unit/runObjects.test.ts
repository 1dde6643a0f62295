import { tallyRunObjects } from '../../src/activities/runObjects';
import { cleanupPlan } from '../../src/client/cleanupPlan';
import { cleanupCommand, runEntryOf } from '../../src/shared/paths';

const RUN = 's3://results/out/0123456789abcdef';

describe('runEntryOf', () => {
  it('names the first folder under the run, or the file at its top', () => {
    expect(runEntryOf(RUN, `${RUN}/bedrock-input/part-00000-shard-00000/part-00000-shard-00000.jsonl`)).toBe('bedrock-input/');
    expect(runEntryOf(`${RUN}/`, `${RUN}/bedrock-output/shard-00001/job/x.jsonl.out`)).toBe('bedrock-output/');
    expect(runEntryOf(RUN, `${RUN}/shards.json`)).toBe('shards.json');
    expect(runEntryOf(RUN, `${RUN}/_incomplete.json`)).toBe('_incomplete.json');
  });

  it('leaves out objects of other runs, a run key that merely starts the same way included', () => {
    expect(runEntryOf(RUN, `${RUN}0/shards.json`)).toBeUndefined();
    expect(runEntryOf(RUN, 's3://results/out/inputs/abc/topics.csv')).toBeUndefined();
    expect(runEntryOf(RUN, `${RUN}/`)).toBeUndefined();
  });
});

describe('tallyRunObjects', () => {
  const objects = [
    { uri: `${RUN}/_incomplete.json`, size: 7 },
    { uri: `${RUN}/bedrock-input/part-00000-shard-00000/part-00000-shard-00000.jsonl`, size: 100 },
    { uri: `${RUN}/bedrock-input/part-00000-shard-00001/part-00000-shard-00001.jsonl`, size: 50 },
    { uri: `${RUN}/input-snapshot/part-00000-shard-00000.parquet`, size: 30 },
    { uri: `${RUN}/output/part-00000-000.parquet`, size: 20 },
    { uri: `${RUN}/shards.json`, size: 3 },
    { uri: `${RUN}1/shards.json`, size: 1000 },
  ];

  it('counts objects and bytes per top-level entry, in listing order, and in total', async () => {
    const listing = await tallyRunObjects(RUN, objects);
    expect(listing).toEqual({
      runUri: RUN,
      entries: {
        '_incomplete.json': { objects: 1, bytes: 7 },
        'bedrock-input/': { objects: 2, bytes: 150 },
        'input-snapshot/': { objects: 1, bytes: 30 },
        'output/': { objects: 1, bytes: 20 },
        'shards.json': { objects: 1, bytes: 3 },
      },
      objects: 6,
      bytes: 210,
    });
    expect(Object.keys(listing.entries)).toEqual(['_incomplete.json', 'bedrock-input/', 'input-snapshot/', 'output/', 'shards.json']);
  });

  it('takes a stream, counts only the entries asked for, and reports progress every 1,000 objects', async () => {
    async function* many() {
      for (let i = 0; i < 2500; i++) yield { uri: `${RUN}/bedrock-output/shard-${i}/x.out`, size: 2 };
      yield* objects;
    }
    const seen: number[] = [];
    const listing = await tallyRunObjects(RUN, many(), { include: (e) => e !== '_incomplete.json', onProgress: (l) => seen.push(l.objects) });
    expect(listing.entries['bedrock-output/']).toEqual({ objects: 2500, bytes: 5000 });
    expect(listing.entries['_incomplete.json']).toBeUndefined();
    expect(listing.objects).toBe(2505);
    expect(seen).toEqual([1000, 2000]);
  });
});

describe('cleanupPlan', () => {
  const staging = ['bedrock-input/', 'input-snapshot/', 'prepare/', 'shards.json', 'bedrock-output/', 'run.json', '_incomplete.json'];
  const results = ['output/', 'summary.json'];

  it('removes a completed run’s staging files and keeps its results unless --all', () => {
    const plan = cleanupPlan({ status: 'COMPLETED', hasSummary: true, all: false });
    expect(staging.filter(plan.remove)).toEqual(staging);
    expect(results.filter(plan.remove)).toEqual([]);
    expect(plan.why).toMatch(/keeps output\/ and summary\.json/);
    expect(results.filter(cleanupPlan({ status: 'COMPLETED', hasSummary: true, all: true }).remove)).toEqual(results);
  });

  it('removes everything of a failed or cancelled run, its partial output included', () => {
    for (const status of ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']) {
      const plan = cleanupPlan({ status, hasSummary: false, all: false });
      expect([...staging, ...results, 'anything-else/'].every(plan.remove)).toBe(true);
    }
  });

  it('keeps the results a rerun of the same input completed under the same run key', () => {
    const plan = cleanupPlan({ status: 'FAILED', hasSummary: true, all: false });
    expect(results.filter(plan.remove)).toEqual([]);
    expect(staging.filter(plan.remove)).toEqual(staging);
  });
});

describe('cleanupCommand', () => {
  it('quotes a workflow id a shell would split', () => {
    expect(cleanupCommand('my-run/2')).toBe('npm run cli -- cleanup my-run/2');
    expect(cleanupCommand("it's mine")).toBe(`npm run cli -- cleanup 'it'\\''s mine'`);
  });
});
