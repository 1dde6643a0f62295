import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runStartMetadata } from '../../src/client/runMetadata';
import { registerCommands } from '../../src/searchAttributeSetup';
import { BATCH_SEARCH_ATTRIBUTES } from '../../src/shared/searchAttributes';
import { emptyTotals } from '../../src/shared/types';
import { formatCount, runDetails } from '../../src/workflows/runBoard';

test('docker-compose registers exactly the search attributes runs upsert', () => {
  const compose = readFileSync(resolve(__dirname, '../../docker-compose.yml'), 'utf8');
  const registered = Object.fromEntries([...compose.matchAll(/- --search-attribute\n\s+- (\w+)=(\w+)/g)].map((m) => [m[1], m[2]]));
  expect(registered).toEqual(BATCH_SEARCH_ATTRIBUTES);
});

test('the register command names every missing attribute with its type, for the CLI and for Temporal Cloud', () => {
  expect(registerCommands('prod', ['BatchRole', 'BatchRowsDone'])).toBe(
    "temporal operator search-attribute create --namespace prod --name BatchRole --type Keyword --name BatchRowsDone --type Int" +
      " (Temporal Cloud: tcld namespace search-attributes add -n prod --sa 'BatchRole=Keyword' --sa 'BatchRowsDone=Int', or the Cloud UI)",
  );
});

test('current details: a markdown table, amounts without `$` (the UI reads `$…$` as math), cells with `|` escaped', () => {
  const totals = { ...emptyTotals(), shardsDone: 2, shardsFailed: 1, rows: 1200, succeeded: 1100, failed: 100, unanswered: 100, batchCostUsd: 0.5, committedCostUsd: 1.25 };
  totals.failedShards.push({ shardIndex: 3, message: 'job Failed | quota' });
  const md = runDetails({ phase: 'running', shardsStarted: 3, shardsRunning: 1, shardCount: 4, rowCount: 2400, totals });
  expect(md.split('\n').slice(0, 5)).toEqual(['**Batch run**', '', '| | |', '|---|---|', '| phase | running |']);
  expect(md).toContain('| shards | 2 of 4 done · 1 running · 1 failed or partial |');
  expect(md).toContain('| rows | 1,200 of 2,400 written · 1,100 answered |');
  expect(md).toContain('| cost | USD 0.5000 so far (batch price) · up to USD 1.2500 committed |');
  expect(md).toContain('shard 3: job Failed \\| quota');
  expect(md).not.toContain('$');
  expect(formatCount(1234567)).toBe('1,234,567');
});

test("a run's static details hold references, never the template, and no `$`", () => {
  const { staticSummary, staticDetails } = runStartMetadata({
    input: { s3Uri: 's3://d/x.csv' }, task: 'text', promptId: 'joke_about_topic', modelId: 'm', outputUri: 's3://o/p', roleArn: 'r', budgetUsd: 5,
  });
  expect(staticSummary).toBe('batch text run · m · s3://d/x.csv');
  expect(staticDetails).toContain('| task | text · prompt `joke_about_topic` |');
  expect(staticDetails).toContain('| budget | USD 5 |');
  expect(staticDetails).not.toContain('$');
});
