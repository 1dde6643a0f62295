import { type BedrockRuntimeClient, ConverseCommand, type ConverseCommandInput, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { ApplicationFailure } from '@temporalio/common';
import type { ModelAdapter } from '../models/types';
import type { InvocationType } from '../shared/types';

/** Answers worth another try after a pause: quotas, a model warming up, transient service faults. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ModelNotReadyException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'ServiceQuotaExceededException',
]);
/** Answers about the record itself: it becomes an error row naming the reason, as a batch record error would. */
const RECORD_ERRORS = new Set(['ValidationException', 'ModelErrorException']);

/** Tries per record, backing off 1, 2, 4, 8, 16 s (±25%): ~30 s, then the activity fails and Temporal retries it later. */
export const MAX_TRIES = 6;

export type CallResult =
  | { ok: true; modelOutput: unknown; inputTokens: number; outputTokens: number }
  | { ok: false; errorCode: string; errorMessage: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** InvokeModel returns the model's own body; its billed token counts travel only in response headers, which the SDK does not surface. */
async function invokeModel(client: BedrockRuntimeClient, modelId: string, modelInput: unknown, adapter: ModelAdapter, abortSignal?: AbortSignal): Promise<CallResult> {
  const command = new InvokeModelCommand({ modelId, body: JSON.stringify(modelInput), contentType: 'application/json', accept: 'application/json' });
  let headers: Record<string, string | undefined> = {};
  command.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      headers = (out.response as { headers?: Record<string, string> }).headers ?? {};
      return out;
    },
    { step: 'deserialize', name: 'onDemandTokenHeaders' },
  );
  const res = await client.send(command, { abortSignal });
  const modelOutput: unknown = JSON.parse(Buffer.from(res.body).toString('utf8'));
  const parsed = (() => {
    try {
      return adapter.parseResponse(modelOutput);
    } catch {
      return undefined;
    }
  })();
  const header = (name: string, fallback: number | undefined) => {
    const n = Number(headers[name]);
    return headers[name] !== undefined && Number.isFinite(n) ? n : (fallback ?? 0);
  };
  return {
    ok: true,
    modelOutput,
    inputTokens: header('x-amzn-bedrock-input-token-count', parsed?.inputTokens),
    outputTokens: header('x-amzn-bedrock-output-token-count', parsed?.outputTokens),
  };
}

/** Converse takes the batch Converse modelInput as its request and returns the batch Converse modelOutput shape. */
async function converse(client: BedrockRuntimeClient, modelId: string, modelInput: unknown, abortSignal?: AbortSignal): Promise<CallResult> {
  const { $metadata: _, ...modelOutput } = await client.send(new ConverseCommand({ ...(modelInput as Omit<ConverseCommandInput, 'modelId'>), modelId }), { abortSignal });
  return { ok: true, modelOutput, inputTokens: modelOutput.usage?.inputTokens ?? 0, outputTokens: modelOutput.usage?.outputTokens ?? 0 };
}

function errorName(err: unknown): string {
  return (err as { name?: string }).name ?? 'Error';
}

/** A network failure has no HTTP answer: worth another try like a throttle. */
function isRetryable(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return RETRYABLE.has(errorName(err)) || status === undefined || status >= 500;
}

/**
 * One record on demand, retrying throttles and transient faults with backoff up to MAX_TRIES.
 * A record-level refusal comes back as an error result; a refusal of the whole call (access
 * denied, model not found) fails non-retryably, since every other record would get it too.
 */
export async function callOnDemand(
  client: BedrockRuntimeClient,
  req: { modelId: string; invocationType: InvocationType; modelInput: unknown; adapter: ModelAdapter; abortSignal?: AbortSignal },
): Promise<CallResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (req.invocationType === 'Converse') return await converse(client, req.modelId, req.modelInput, req.abortSignal);
      return await invokeModel(client, req.modelId, req.modelInput, req.adapter, req.abortSignal);
    } catch (err) {
      if (req.abortSignal?.aborted) throw err;
      const name = errorName(err);
      const message = (err as Error).message;
      if (RECORD_ERRORS.has(name)) return { ok: false, errorCode: name, errorMessage: `on-demand ${req.invocationType} rejected the record: ${message}` };
      if (!isRetryable(err)) {
        throw ApplicationFailure.create({ type: 'OnDemandRefused', nonRetryable: true, message: `on-demand ${req.invocationType} on ${req.modelId} refused: ${name}: ${message}` });
      }
      if (attempt >= MAX_TRIES) {
        throw ApplicationFailure.create({ type: 'OnDemandThrottled', message: `on-demand ${req.invocationType} still failing after ${MAX_TRIES} tries: ${name}: ${message}` });
      }
      await sleep(1000 * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
    }
  }
}
