import { readObjectText, writeObject } from '../io/s3';
import { runFiles } from '../shared/paths';
import type { ResolvedRun, RunInput } from '../shared/types';
import type { ActivityDeps } from './deps';

const MAX_CACHED = 16;
const cache = new Map<string, ResolvedRun>();

/**
 * The run as workflow history carries it: references and counts. The template text and the
 * system prompt stay in `run.json`, which the activities that render prompts read back.
 */
export function slimRun(run: ResolvedRun): ResolvedRun {
  const { template: _template, ...rest } = run;
  const { system: _system, ...modelParams } = run.modelParams;
  return { ...rest, modelParams, runFileUri: runFiles(run.runUri).runFile };
}

/** Resolves a run, writes the whole of it once to `<runUri>/run.json`, and returns its slim form. */
export function recordingResolvedRun(deps: ActivityDeps, resolve: (input: RunInput) => Promise<ResolvedRun>) {
  return async function resolveRun(input: RunInput): Promise<ResolvedRun> {
    const run = await resolve(input);
    // Same input, same run key, same content: a retried or repeated resolve rewrites the same file.
    await writeObject(deps.s3, runFiles(run.runUri).runFile, JSON.stringify(run, null, 1), 'application/json');
    return slimRun(run);
  };
}

/** The whole run (template, system prompt) behind a slim one; a run from older histories is whole already. */
export async function fullRun(deps: Pick<ActivityDeps, 's3'>, run: ResolvedRun): Promise<ResolvedRun> {
  if (!run.runFileUri) return run;
  let whole = cache.get(run.runFileUri);
  if (!whole) {
    whole = JSON.parse(await readObjectText(deps.s3, run.runFileUri)) as ResolvedRun;
    if (whole.runKey !== run.runKey) throw new Error(`${run.runFileUri} holds run ${whole.runKey}, not ${run.runKey}`);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(run.runFileUri, whole);
  }
  return whole;
}
