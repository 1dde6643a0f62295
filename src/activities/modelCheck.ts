import { BedrockClient, GetFoundationModelCommand, GetInferenceProfileCommand } from '@aws-sdk/client-bedrock';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BatchCatalog, loadBatchCatalog } from '../models/batchCatalog';
import type { ModelIdentifier } from '../models/modelIdentifier';
import { InvocationType, UnknownModelError } from '../models/types';

/** What the check needs: the Bedrock client (its Region is where jobs will run) and, for tests, another catalog. */
export interface ModelCheckDeps {
  bedrock: BedrockClient;
  catalog?: BatchCatalog;
}

export interface ModelToCheck {
  modelId?: unknown;
  invocationType?: unknown;
}

/**
 * Refuses a model the dated catalog says cannot run in batch in the Bedrock client's Region, or
 * whose request body none of our adapters writes for that invocation type. Costs no call to AWS,
 * so estimates and runs refuse before reading or uploading anything. Throws UnknownModelError.
 */
export async function checkModelInCatalog(deps: ModelCheckDeps, run: ModelToCheck): Promise<ModelIdentifier | undefined> {
  // A missing or malformed modelId is the run-input check's to report, with all the other fields.
  if (typeof run.modelId !== 'string') return undefined;
  const invocationType: InvocationType = run.invocationType === 'Converse' ? 'Converse' : 'InvokeModel';
  const region = await deps.bedrock.config.region();
  const verdict = (deps.catalog ?? loadBatchCatalog()).check(run.modelId, region, invocationType);
  if (!verdict.ok) throw new UnknownModelError(verdict.reason);
  if (verdict.warning) warn(verdict.warning);
  return verdict.identifier;
}

/**
 * The catalog check, then Bedrock itself: GetFoundationModel for model ids and foundation-model
 * ARNs, GetInferenceProfile for profile ids and their ARNs. An id Bedrock does not know is an
 * input error; a denied call fails at once with what permission is missing; throttling and
 * server errors are thrown as they are, so the activity's retry policy retries them.
 */
export async function checkModelForBatch(deps: ModelCheckDeps, run: ModelToCheck): Promise<void> {
  const identifier = await checkModelInCatalog(deps, run);
  if (!identifier || identifier.form === 'other-arn') return;
  const modelId = (run.modelId as string).trim();
  const region = await deps.bedrock.config.region();
  const byProfile = identifier.form === 'profile-id' || identifier.form === 'profile-arn';
  const operation = byProfile ? 'GetInferenceProfile' : 'GetFoundationModel';
  try {
    if (byProfile) {
      await deps.bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: modelId }));
    } else {
      const res = await deps.bedrock.send(new GetFoundationModelCommand({ modelIdentifier: modelId }));
      if (res.modelDetails?.modelLifecycle?.status === 'LEGACY') warn(`model "${modelId}" is LEGACY on Bedrock in ${region}: it still runs, but plan to move off it`);
    }
  } catch (err) {
    throw classifyBedrockError(err, operation, modelId, region);
  }
}

function classifyBedrockError(err: unknown, operation: string, modelId: string, region: string): unknown {
  const name = (err as { name?: string })?.name;
  const message = (err as { message?: string })?.message ?? String(err);
  if (name === 'ResourceNotFoundException' || name === 'ValidationException') {
    return new UnknownModelError(`Bedrock in ${region} does not know model "${modelId}" (${operation}: ${name}: ${message})`);
  }
  if (name === 'AccessDeniedException') {
    return ApplicationFailure.create({
      type: 'BedrockAccessDenied',
      nonRetryable: true,
      message:
        `Bedrock in ${region} denied ${operation} for "${modelId}" (${message}); the worker's credentials need ` +
        `bedrock:${operation} (and access to the model) to check it before any job is submitted`,
      cause: err instanceof Error ? err : undefined,
    });
  }
  return err;
}

/** In an activity the warning goes to its logger (with the workflow's ids); elsewhere (the CLI's estimate) to stderr. */
function warn(message: string): void {
  try {
    Context.current().log.warn(message);
  } catch {
    console.warn(`warning: ${message}`);
  }
}
