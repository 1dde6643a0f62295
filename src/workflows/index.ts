export { batchRun } from './batchRun';
export { bedrockJob } from './bedrockJob';
export { jobSlots } from './jobSlots';
