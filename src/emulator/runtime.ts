import type { IncomingMessage } from 'node:http';
import type { ModelCatalog } from './catalog';
import { ApiError, validation } from './errors';
import type { FaultState } from './faults';
import { canonicalJson, sha256Hex } from './hash';
import { FakeResult, baseModelId, invokeFake, modelFamily, supportsConverse } from './models';

/** bedrock-runtime's Body shape allows 25,000,000 bytes (botocore service-2.json, `Body.max`). */
const MAX_RUNTIME_BODY_BYTES = 25_000_000;

// InvokeModelIdentifier / ConversationalModelId from the service model, matched whole; both are this pattern.
const RUNTIME_MODEL_ID =
  '(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63}))|([0-9]{12}:imported-model/[a-z0-9]{12})|([0-9]{12}:provisioned-model/[a-z0-9]{12})|([0-9]{12}:custom-model-deployment/[a-z0-9]{12})|([0-9]{12}:(inference-profile|application-inference-profile)/[a-zA-Z0-9-:.]+)))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63}))|(([0-9a-zA-Z][_-]?)+)|([a-zA-Z0-9-:.]+)';

export type RuntimeOperation = 'invoke' | 'converse';

/** A 200 answer with headers of its own (the server sends every other answer as plain JSON). */
export class RuntimeReply {
  constructor(
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {}
}

export interface RuntimeStats {
  invokeRequests: number;
  converseRequests: number;
  /** Calls answered 200. */
  answered: number;
  /** Calls answered with an error (validation, throttling, injected faults). */
  rejected: number;
  /** Answered calls whose model, operation and body had been answered before: what a client paid for twice. */
  repeatedAnswers: number;
}

const emptyStats = (): RuntimeStats => ({ invokeRequests: 0, converseRequests: 0, answered: 0, rejected: 0, repeatedAnswers: 0 });

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_RUNTIME_BODY_BYTES) throw validation(`1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RUNTIME_BODY_BYTES}`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The bedrock-runtime routes InvokeModel (`POST /model/{modelId}/invoke`) and Converse
 * (`POST /model/{modelId}/converse`), answering a body exactly as a batch job answers the same
 * modelInput (same text, vector and token counts), so on-demand and batch answers can be mixed.
 */
export class RuntimeService {
  private counters = emptyStats();
  private readonly answeredBodies = new Set<string>();

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly faults: FaultState,
  ) {}

  stats(): RuntimeStats {
    return { ...this.counters };
  }

  resetStats(): void {
    this.counters = emptyStats();
    this.answeredBodies.clear();
  }

  async call(op: RuntimeOperation, modelId: string, req: IncomingMessage): Promise<RuntimeReply> {
    if (op === 'invoke') this.counters.invokeRequests++;
    else this.counters.converseRequests++;
    try {
      const reply = this.answer(op, modelId, await readBody(req));
      this.counters.answered++;
      return reply;
    } catch (err) {
      this.counters.rejected++;
      throw err;
    }
  }

  private answer(op: RuntimeOperation, modelId: string, raw: Buffer): RuntimeReply {
    if (modelId.length > 2048 || !new RegExp(`^(?:${RUNTIME_MODEL_ID})$`).test(modelId)) {
      throw validation(`1 validation error detected: Value '${modelId}' at 'modelId' failed to satisfy constraint: Member must satisfy regular expression pattern: ${RUNTIME_MODEL_ID}`);
    }
    if (this.faults.takeInvokeThrottle()) throw new ApiError('ThrottlingException', 'Too many requests, please wait before trying again.');
    if (this.faults.invokeDenied()) {
      throw new ApiError('AccessDeniedException', "You don't have access to the model with the specified model ID. (emulated fault denyInvokesAfter)");
    }
    // AWS answers an id that names no model or profile in the Region with this ValidationException (not ResourceNotFound).
    const family = modelFamily(modelId);
    if (!this.catalog.offersForInference(modelId) || !family) throw validation('The provided model identifier is invalid.');
    if (op === 'converse' && !supportsConverse(family)) {
      throw validation("This action doesn't support the model that you provided. Try again with a supported text or chat model.");
    }
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      throw validation('Malformed input request: #: the request body is not valid JSON, please reformat your input and try again.');
    }
    const result: FakeResult = invokeFake(family, op === 'converse' ? 'Converse' : 'InvokeModel', modelId, body);
    if (!result.ok) throw validation(result.message);
    const key = sha256Hex(`${op}|${baseModelId(modelId)}|${canonicalJson(body)}`);
    if (this.answeredBodies.has(key)) this.counters.repeatedAnswers++;
    else this.answeredBodies.add(key);
    if (op === 'converse') return new RuntimeReply(result.modelOutput, {});
    // InvokeModel reports usage in these headers for every family, whether or not its body carries counts.
    return new RuntimeReply(result.modelOutput, {
      'X-Amzn-Bedrock-Input-Token-Count': String(result.inputTokens),
      'X-Amzn-Bedrock-Output-Token-Count': String(result.outputTokens),
      'X-Amzn-Bedrock-Invocation-Latency': String(100 + (result.outputTokens % 900)),
    });
  }
}
