import { makeBedrockJobActivities } from './bedrockJobs';
import { makeCollectShard } from './collectShard';
import { ActivityDeps } from './deps';
import { makeFinalizeRun } from './finalizeRun';
import { makePrepareParts } from './prepareParts';
import { makeRedrive } from './redrive';
import { makeResolveRun } from './resolveRun';

export type { ActivityDeps } from './deps';

/** The worker's activities, built over explicit dependencies (clients, folders, defaults). */
export function createActivities(deps: ActivityDeps) {
  return {
    resolveRun: makeResolveRun(deps),
    ...makePrepareParts(deps),
    ...makeBedrockJobActivities(deps),
    ...makeCollectShard(deps),
    ...makeRedrive(deps),
    finalizeRun: makeFinalizeRun(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
