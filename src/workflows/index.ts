export { batchRun } from './batchRun';
export { bedrockJob } from './bedrockJob';
