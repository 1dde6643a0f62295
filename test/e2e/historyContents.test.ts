import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { startBatchRun } from '../../src/client/api';
import { sampleRows, uploadCsv } from '../support/data';
import { localStackWithWorker, textRun } from '../support/runs';

const env = localStackWithWorker({ inProgressMs: 300 });

/** Every string in an event, payload bytes decoded: what anyone reading the history sees. */
function eventText(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) eventText(v, out);
  return out;
}

async function historyEvents(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await env.worker.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

test('workflow histories carry references and counts: no template text, system prompt or row value', async () => {
  const template = readFileSync(resolve(__dirname, '../../templates/joke_about_topic.txt'), 'utf8').split('{')[0].trim();
  const system = 'SYSTEM-PROMPT-d41d8cd9 answer as a pirate';
  const rows = sampleRows(200).map((r, i) => ({ ...r, topic: `ROW-VALUE-${i}-8f00b204` }));
  await uploadCsv(env.stack.s3, 's3://datasets/history-contents.csv', rows);
  const input = textRun('history-contents', { modelParams: { maxTokens: 100, system }, maxRecordsPerJob: 100 });
  const summary = await (await startBatchRun(env.worker.client, input, { workflowId: 'history-contents' })).result();
  expect(summary).toMatchObject({ rows: 200, succeeded: 200, outcome: 'complete' });

  const histories = {
    parent: await historyEvents('history-contents'),
    'shard-0': await historyEvents('history-contents/shard-0'),
    'shard-1': await historyEvents('history-contents/shard-1'),
  };
  for (const [name, events] of Object.entries(histories)) {
    expect(events.length).toBeGreaterThan(3);
    events.forEach((event, i) => {
      const text = eventText(event).join('\n');
      const where = `${name} event ${i + 1} (${event.eventType})`;
      expect({ where, template: text.includes(template) }).toEqual({ where, template: false });
      expect({ where, row: /ROW-VALUE-\d+-8f00b204/.test(text) }).toEqual({ where, row: false });
      // The user's own input holds the system prompt: the start event, and resolveRun, which reads it. Nothing after.
      const isUserInput = name === 'parent' && (i === 0 || event.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveRun');
      expect({ where, system: text.includes(system) }).toEqual({ where, system: isUserInput });
    });
  }
});
