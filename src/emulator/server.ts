import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { ApiError, validation } from './errors';
import { Faults, parseFaults } from './faults';
import type { JobEngine } from './jobEngine';
import { ALL_STATUSES, ListQuery, jobView } from './jobStore';
import { RuntimeReply } from './runtime';
import { validateTagList } from './validation';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_TAGS = 200;

function send(res: ServerResponse, requestId: string, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
    ...extraHeaders,
  });
  res.end(text);
}

/** Bedrock's error wire form; the SDK takes the shape name from x-amzn-ErrorType up to the first ':'. */
function sendError(res: ServerResponse, requestId: string, err: ApiError): void {
  send(res, requestId, err.status, { message: err.message }, { 'x-amzn-ErrorType': `${err.shape}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw validation('Request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw validation('Request body is not valid JSON.');
  }
}

function coral(param: string, value: string, constraint: string): ApiError {
  return validation(`1 validation error detected: Value '${value}' at '${param}' failed to satisfy constraint: Member must ${constraint}`);
}

function parseTime(param: string, value: string | null): Date | undefined {
  if (value === null) return undefined;
  const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(t)) throw coral(param, value, 'be a timestamp');
  return new Date(t);
}

function parseListQuery(params: URLSearchParams, defaultPageSize: number): ListQuery {
  const maxRaw = params.get('maxResults');
  let maxResults = defaultPageSize;
  if (maxRaw !== null) {
    maxResults = Number(maxRaw);
    if (!Number.isInteger(maxResults)) throw coral('maxResults', maxRaw, 'be an integer');
    if (maxResults < 1) throw coral('maxResults', maxRaw, 'have value greater than or equal to 1');
    if (maxResults > 1000) throw coral('maxResults', maxRaw, 'have value less than or equal to 1000');
  }
  const statusEquals = params.get('statusEquals') ?? undefined;
  if (statusEquals !== undefined && !ALL_STATUSES.includes(statusEquals)) {
    throw coral('statusEquals', statusEquals, `satisfy enum value set: [${ALL_STATUSES.join(', ')}]`);
  }
  const sortBy = params.get('sortBy');
  if (sortBy !== null && sortBy !== 'CreationTime') throw coral('sortBy', sortBy, 'satisfy enum value set: [CreationTime]');
  const sortOrder = params.get('sortOrder') ?? 'Descending';
  if (sortOrder !== 'Ascending' && sortOrder !== 'Descending') throw coral('sortOrder', sortOrder, 'satisfy enum value set: [Ascending, Descending]');
  const nameContains = params.get('nameContains') ?? undefined;
  if (nameContains !== undefined && (nameContains.length < 1 || nameContains.length > 63)) {
    throw coral('nameContains', nameContains, 'have length between 1 and 63');
  }
  return {
    submitTimeAfter: parseTime('submitTimeAfter', params.get('submitTimeAfter')),
    submitTimeBefore: parseTime('submitTimeBefore', params.get('submitTimeBefore')),
    statusEquals,
    nameContains,
    maxResults,
    nextToken: params.get('nextToken') ?? undefined,
    sortOrder,
  };
}

function taggedJob(engine: JobEngine, body: unknown) {
  const arn = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).resourceARN : undefined;
  if (typeof arn !== 'string') throw validation("1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null");
  const job = engine.store.findByArn(arn);
  if (!job) throw new ApiError('ResourceNotFoundException', `The resource ${arn} could not be found.`);
  return job;
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a malformed escape cannot name a job; lookup then answers 404
  }
}

// The service model's identifier patterns (GetFoundationModelIdentifier, InferenceProfileIdentifier), matched whole.
const FOUNDATION_MODEL_ID =
  '(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/[a-z0-9-]{1,63}[.]{1}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})';
const INFERENCE_PROFILE_ID = '(arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(|[0-9a-z-]{0,20}):(|[0-9]{12}):(inference-profile|application-inference-profile)/)?[a-zA-Z0-9-:.]+';

function checkIdentifier(param: string, value: string, pattern: string): string {
  if (value.length > 2048) throw coral(param, value, 'have length less than or equal to 2048');
  if (!new RegExp(`^(?:${pattern})$`).test(value)) throw coral(param, value, `satisfy regular expression pattern: ${pattern}`);
  return value;
}

/**
 * Test-only controls, under a prefix no AWS route uses: POST /_emulator/faults (a Faults object,
 * replacing the current faults), GET /_emulator/faults, GET /_emulator/stats, POST /_emulator/stats/reset.
 */
async function adminRoute(engine: JobEngine, method: string, parts: string[], req: IncomingMessage): Promise<unknown> {
  const path = parts.slice(1).join('/');
  if (method === 'POST' && path === 'faults') {
    let faults: Faults;
    try {
      faults = parseFaults(await readJson(req));
    } catch (err) {
      throw err instanceof ApiError ? err : validation(`Bad faults: ${(err as Error).message}`);
    }
    engine.faults.set(faults);
    return { faults: engine.faults.get() };
  }
  if (method === 'GET' && path === 'faults') return { faults: engine.faults.get() };
  if (method === 'GET' && path === 'stats') return engine.stats();
  if (method === 'POST' && path === 'stats/reset') {
    engine.resetStats();
    return engine.stats();
  }
  throw new ApiError('UnknownOperationException', `No emulator control matches ${method} /${parts.join('/')}`);
}

async function route(engine: JobEngine, defaultPageSize: number, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  // Split before decoding: an ARN identifier arrives percent-encoded, including its '/'.
  const parts = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';
  const [head, id, tail] = parts;

  if (head === '_emulator') return adminRoute(engine, method, parts, req);
  // bedrock-runtime shares the server: its routes start with /model/, which no control-plane route uses.
  if (method === 'POST' && head === 'model' && parts.length === 3 && (tail === 'invoke' || tail === 'converse')) {
    return engine.runtime.call(tail, decodeId(id), req);
  }
  if (method === 'GET' && head === 'foundation-models' && parts.length === 2) {
    return engine.foundationModel(checkIdentifier('modelIdentifier', decodeId(id), FOUNDATION_MODEL_ID));
  }
  if (method === 'GET' && head === 'inference-profiles' && parts.length === 2) {
    return engine.inferenceProfile(checkIdentifier('inferenceProfileIdentifier', decodeId(id), INFERENCE_PROFILE_ID));
  }
  if (method === 'POST' && head === 'model-invocation-job' && parts.length === 1) {
    const body = await readJson(req);
    const delay = engine.faults.createDelayMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return engine.create(body);
  }
  if (method === 'GET' && head === 'model-invocation-job' && parts.length === 2) return jobView(engine.describe(decodeId(id)));
  if (method === 'POST' && head === 'model-invocation-job' && parts.length === 3 && tail === 'stop') {
    engine.stop(decodeId(id));
    return {};
  }
  if (method === 'GET' && head === 'model-invocation-jobs' && parts.length === 1) {
    const page = engine.list(parseListQuery(url.searchParams, defaultPageSize));
    const out: Record<string, unknown> = { invocationJobSummaries: page.items.map(jobView) };
    if (page.nextToken) out.nextToken = page.nextToken;
    return out;
  }
  if (method === 'POST' && parts.length === 1 && head === 'tagResource') {
    const body = await readJson(req);
    const job = taggedJob(engine, body);
    const tags = validateTagList((body as Record<string, unknown>).tags);
    const merged = new Map(job.tags.map((t) => [t.key, t.value]));
    for (const t of tags) merged.set(t.key, t.value);
    if (merged.size > MAX_TAGS) throw new ApiError('TooManyTagsException', `A resource can have at most ${MAX_TAGS} tags.`);
    job.tags = [...merged].map(([key, value]) => ({ key, value }));
    return {};
  }
  if (method === 'POST' && parts.length === 1 && head === 'untagResource') {
    const body = await readJson(req);
    const job = taggedJob(engine, body);
    const keys = (body as Record<string, unknown>).tagKeys;
    if (!Array.isArray(keys)) throw validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    job.tags = job.tags.filter((t) => !keys.includes(t.key));
    return {};
  }
  if (method === 'POST' && parts.length === 1 && head === 'listTagsForResource') {
    return { tags: taggedJob(engine, await readJson(req)).tags };
  }
  throw new ApiError('UnknownOperationException', `No operation matches ${method} ${url.pathname}`);
}

export function createBedrockServer(engine: JobEngine, defaultPageSize: number): Server {
  return createServer((req, res) => {
    const requestId = randomUUID();
    route(engine, defaultPageSize, req).then(
      (body) => (body instanceof RuntimeReply ? send(res, requestId, 200, body.body, body.headers) : send(res, requestId, 200, body)),
      (err: unknown) => {
        if (err instanceof ApiError) return sendError(res, requestId, err);
        sendError(res, requestId, new ApiError('InternalServerException', `Internal server error: ${String(err)}`));
      },
    );
  });
}
