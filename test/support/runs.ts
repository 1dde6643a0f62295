import type { RunInput } from '../../src/shared/types';
import { LocalStack, startLocalStack } from './localStack';
import { RunningWorker, startWorker } from './worker';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/BedrockBatchRole';
export const CLAUDE_HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

/** A text run over `s3://datasets/<name>.csv` writing to `s3://results/<name>`, its jobs named after `name`. */
export function textRun(name: string, extra: Partial<RunInput> = {}): RunInput {
  return {
    input: { s3Uri: `s3://datasets/${name}.csv` },
    task: 'text',
    promptId: 'joke_about_topic',
    modelId: CLAUDE_HAIKU,
    outputUri: `s3://results/${name}`,
    roleArn: ROLE_ARN,
    pollIntervalSeconds: 1,
    runName: name,
    ...extra,
  };
}

/** A local stack and an in-process worker for the test file: started before its tests, stopped after. */
export function localStackWithWorker(
  opts: Parameters<typeof startLocalStack>[0] = {},
  workerOpts: Parameters<typeof startWorker>[2] = {},
): { readonly stack: LocalStack; readonly worker: RunningWorker } {
  let stack: LocalStack | undefined;
  let worker: RunningWorker | undefined;
  beforeAll(async () => {
    stack = await startLocalStack(opts);
    worker = await startWorker(stack, undefined, workerOpts);
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });
  return {
    get stack() {
      return stack!;
    },
    get worker() {
      return worker!;
    },
  };
}
