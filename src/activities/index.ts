import { makeBedrockJobActivities } from './bedrockJobs';
import { makeCollectShard } from './collectShard';
import { ActivityDeps } from './deps';
import { makeFinalizeRun } from './finalizeRun';
import { makeJobSlotActivities } from './jobSlots';
import { makeGatherInput } from './gatherInput';
import { makeOnDemand } from './onDemand';
import { makeRecordIncompleteRun } from './incompleteRun';
import { makePrepareParts } from './prepareParts';
import { makeRedrive } from './redrive';
import { makeSlotSubmit } from './slotSubmit';
import { makeResolveRun } from './resolveRun';
import { recordingResolvedRun } from './runFile';

export type { ActivityDeps } from './deps';

/** The worker's activities, built over explicit dependencies (clients, folders, defaults). */
export function createActivities(deps: ActivityDeps) {
  const bedrockJobs = makeBedrockJobActivities(deps);
  const jobSlots = makeJobSlotActivities(deps);
  return {
    resolveRun: recordingResolvedRun(deps, makeResolveRun(deps)),
    ...makePrepareParts(deps),
    ...bedrockJobs,
    ...jobSlots,
    ...makeSlotSubmit(jobSlots, bedrockJobs),
    ...makeCollectShard(deps),
    ...makeRedrive(deps),
    ...makeGatherInput(deps),
    ...makeOnDemand(deps),
    finalizeRun: makeFinalizeRun(deps),
    recordIncompleteRun: makeRecordIncompleteRun(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
