import type { RunEstimate } from '../core/estimate';
import type { RunInput } from '../shared/types';

/**
 * The Web UI's static summary and details of a run our client starts: what was asked for, at a
 * glance. References and counts only (the template is named by id, never inlined), since both are
 * kept with the workflow. Runs started elsewhere show the same facts in their current details.
 * Amounts say USD, not `$`: the UI's markdown renderer reads `$…$` as math.
 */
export function runStartMetadata(input: RunInput, estimate?: RunEstimate): { staticSummary: string; staticDetails: string } {
  const source = 's3Uri' in input.input ? input.input.s3Uri : `hf://datasets/${input.input.huggingFace.datasetId}/${input.input.huggingFace.split}`;
  const staticSummary = `batch ${input.task} run · ${input.modelId} · ${source}`;
  const rows: Array<[string, string]> = [
    ['input', `\`${source}\``],
    ['model', `\`${input.modelId}\`${input.invocationType ? ` (${input.invocationType})` : ''}`],
    ['task', input.task + (input.promptId ? ` · prompt \`${input.promptId}\`` : '')],
    ['output', `\`${input.outputUri}\``],
  ];
  if (input.maxRecords !== undefined) rows.push(['rows', `first ${input.maxRecords}`]);
  if (estimate) {
    rows.push(['rows', String(estimate.records)], ['jobs', String(estimate.jobs)]);
    const cost = estimate.cost.batchCost === undefined ? 'no price for this model' : `up to USD ${estimate.cost.batchCost.toFixed(4)} (batch)`;
    rows.push(['estimate', `${estimate.inputTokens} input tokens · ≤ ${estimate.outputTokensMax} output tokens · ${cost}`]);
  } else {
    rows.push(['rows, jobs, estimate', 'counted when the run prepares: see current details']);
  }
  if (input.budgetUsd !== undefined) rows.push(['budget', `USD ${input.budgetUsd}`]);
  const staticDetails = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n');
  return { staticSummary, staticDetails };
}
