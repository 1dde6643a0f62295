import { readSourceSchema } from '../io/dataset';
import { checkRunInput, runKeyOf } from '../core/runConfig';
import { missingColumns, templateKeys } from '../core/template';
import { reservedColumnClashes } from '../core/outputSchema';
import { resolveModelAdapter } from '../models/registry';
import { RunInputError } from '../core/runConfig';
import { ResolvedRun, RunInput } from '../shared/types';
import { ActivityDeps } from './deps';
import { failingFast } from './failures';
import { checkModelForBatch } from './modelCheck';
import { loadPromptTemplate } from './templateStore';

export const EMBEDDING_TEXT_COLUMN = 'input_text';

/**
 * Checks everything that can be checked cheaply before any row is read or any job exists:
 * the input fields, the model and its parameters, the template, and the template's columns
 * against the dataset's header. Returns the run with defaults applied and its business key.
 */
export function makeResolveRun(deps: ActivityDeps) {
  return async function resolveRun(input: RunInput): Promise<ResolvedRun> {
    return failingFast(async () => {
      const run = checkRunInput(input, deps.defaults);
      const adapter = resolveModelAdapter(run.modelId, run.invocationType);
      if (adapter.task !== run.task) {
        throw new RunInputError([`model ${run.modelId} is an ${adapter.task} model but task is "${run.task}"`]);
      }
      adapter.validateParams(run.modelParams);
      await checkModelForBatch(deps, run);

      const { schema, eTag } = await readSourceSchema(deps, run.source);
      const columns = schema.fields.map((f) => f.name);

      const clashes = reservedColumnClashes(columns);
      if (clashes.length) {
        throw new RunInputError([`input columns ${clashes.join(', ')} clash with output columns the run adds; rename them`]);
      }
      let template: string | undefined;
      let textColumn: string | undefined;
      if (run.task === 'text') {
        template = await loadPromptTemplate(deps.templatesDir, run.promptId!);
        const missing = missingColumns(templateKeys(template), columns);
        if (missing.length) {
          throw new RunInputError([
            `prompt "${run.promptId}" uses column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ` +
              `missing from ${run.inputUri} (its columns: ${columns.join(', ')})`,
          ]);
        }
      } else {
        textColumn = EMBEDDING_TEXT_COLUMN;
        if (!columns.includes(textColumn)) {
          throw new RunInputError([`embedding runs read the "${textColumn}" column, missing from ${run.inputUri} (its columns: ${columns.join(', ')})`]);
        }
      }

      const runKey = runKeyOf({
        inputUri: run.inputUri,
        inputETag: eTag,
        task: run.task,
        template,
        modelId: run.modelId,
        invocationType: run.invocationType,
        modelParams: run.modelParams,
        maxRecordsPerJob: run.maxRecordsPerJob,
        partBytes: run.partBytes,
        maxRecords: run.maxRecords,
        outputUri: run.outputUri,
      });
      return {
        runKey,
        runName: run.runName,
        task: run.task,
        inputUri: run.inputUri,
        source: run.source,
        inputETag: eTag,
        promptId: run.promptId,
        template,
        textColumn,
        modelId: run.modelId,
        invocationType: run.invocationType,
        modelParams: run.modelParams,
        runUri: `${run.outputUri}/${runKey}`,
        roleArn: run.roleArn,
        maxRecordsPerJob: run.maxRecordsPerJob,
        maxConcurrentJobs: run.maxConcurrentJobs,
        jobTimeoutHours: run.jobTimeoutHours,
        pollIntervalSeconds: run.pollIntervalSeconds,
        jobEvents: run.jobEvents,
        maxJobAttempts: run.maxJobAttempts,
        shardsPerPage: run.shardsPerPage,
        partBytes: run.partBytes,
        prepareConcurrency: run.prepareConcurrency,
        budgetUsd: run.budgetUsd,
        maxRecords: run.maxRecords,
        quotaWaitMinutes: run.quotaWaitMinutes,
        smallRemainder: run.smallRemainder,
        onDemandRequestsPerSecond: run.onDemandRequestsPerSecond,
        columns,
      };
    });
  };
}
