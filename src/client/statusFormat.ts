import type { RunSummary } from '../shared/types';
import { bar, count, duration, money, roundUsd, table } from './format';
import type { RunView } from './runView';
import { controlRows } from '../shared/controls';

const dash = '-';

function shardsCell(s: NonNullable<RunView['shards']>): string {
  const done = s.succeeded + s.partial + s.failed + s.notSubmitted;
  const extra = [s.partial && `${s.partial} partial`, s.failed && `${s.failed} failed`, s.notSubmitted && `${s.notSubmitted} not submitted`].filter(Boolean);
  return `${done}/${s.total} done${extra.length ? ` (${extra.join(', ')})` : ''}, ${s.running} running, ${s.pending} pending`;
}

function costCell(v: RunView): string {
  const est = v.estimateUsd === undefined ? '' : ` of ≤ ${money(v.estimateUsd)} estimated`;
  const committed = v.committedUsd === undefined || v.phase === 'done' ? '' : `; submitted jobs ≤ ${money(v.committedUsd)}`;
  return v.costUsd === undefined && !est ? dash : `${money(v.costUsd)}${est}${committed}`;
}

function rowsCell(r: NonNullable<RunView['rows']>): string {
  return r.total === undefined ? count(r.done) : `${count(r.done)}/${count(r.total)}`;
}

/** "2 shards for a job slot, 1 submit retrying (…)": each state once, with how many shards are in it. */
function shardStatesCell(states: NonNullable<RunView['shardStates']>): string {
  return Object.entries(states.counts)
    .map(([state, n]) => `${n} shard${n === 1 ? '' : 's'} ${state.replace(/^waiting /, '')}`)
    .join(', ');
}

/** "120 records of 3 shards; job(s) …; note; waiting": what became (or becomes) of the small remainders. */
function gatherCell(g: NonNullable<RunView['gather']>): string {
  const parts = [`${count(g.records)} small-remainder records of ${g.shards} shard${g.shards === 1 ? '' : 's'}`];
  if (g.jobs?.length) parts.push(`pooled job${g.jobs.length === 1 ? '' : 's'} ${g.jobs.join(', ')}`);
  if (g.waiting) parts.push(g.waiting);
  if (g.note) parts.push(g.note);
  return parts.join('; ');
}

function onDemandCell(o: NonNullable<RunView['onDemand']>): string {
  const rejected = o.rejected ? `, ${count(o.rejected)} rejected` : '';
  return `${count(o.answered)} answered${rejected}, ${money(o.costUsd)} at the on-demand price`;
}

/** `status`: the run as a two-column table a person reads top to bottom. */
export function statusLines(v: RunView): string[] {
  const rows: string[][] = [
    ['run', `${v.workflowId} (${v.status.toLowerCase()})`],
    ['model', v.modelId ?? dash],
    ['phase', v.phase ?? (v.status === 'RUNNING' ? 'unknown: the progress query got no answer (is a worker running?)' : dash)],
  ];
  if (v.parts) rows.push(['parts', `${v.parts.done}/${v.parts.total} prepared`]);
  if (v.shards) rows.push(['shards', shardsCell(v.shards)]);
  if (v.shardStates) rows.push(['waiting', shardStatesCell(v.shardStates)]);
  if (v.gather) rows.push(['gather', gatherCell(v.gather)]);
  if (v.rows) rows.push(['rows', rowsCell(v.rows)]);
  if (v.tokens) rows.push(['tokens', `${count(v.tokens.input)} in, ${count(v.tokens.output)} out`]);
  rows.push(['cost', costCell(v)]);
  if (v.onDemand) rows.push(['on demand', onDemandCell(v.onDemand)]);
  if (v.controls && v.status === 'RUNNING') rows.push(...controlRows(v.controls));
  if (v.status === 'RUNNING') rows.push(['eta', v.etaMs === undefined ? 'not yet known (no shard finished)' : duration(v.etaMs)]);
  if (v.outcome) rows.push(['outcome', `${v.outcome}${v.outcomeReason ? `: ${v.outcomeReason}` : ''}`]);
  if (v.manifestUri) rows.push(['output', v.manifestUri]);
  if (v.failure) {
    rows.push(['root cause', v.failure.root]);
    if (v.failure.chain && v.failure.chain !== v.failure.root) rows.push(['cause chain', v.failure.chain]);
  }
  const lines = table(rows);
  for (const r of v.retrying ?? []) lines.push(`  retrying: ${r.workflowId} ${r.activity} attempt ${r.attempt}: ${r.lastFailure}`);
  return lines;
}

/** `watch` on a terminal: bars for parts and shards, then rows, tokens, cost and ETA. */
export function watchScreen(v: RunView): string[] {
  const lines = [`${v.workflowId}  ${v.modelId ?? ''}  ${v.phase ?? v.status.toLowerCase()}`];
  if (v.parts) lines.push(`parts   ${bar(v.parts.done, v.parts.total)}  ${v.parts.done}/${v.parts.total}`);
  if (v.shards) {
    const s = v.shards;
    lines.push(`shards  ${bar(s.succeeded + s.partial + s.failed + s.notSubmitted, s.total)}  ${shardsCell(s)}`);
  }
  if (v.shardStates) lines.push(`waiting ${shardStatesCell(v.shardStates)}`);
  if (v.gather) lines.push(`gather  ${gatherCell(v.gather)}`);
  if (v.rows) lines.push(`rows    ${rowsCell(v.rows)}`);
  if (v.tokens) lines.push(`tokens  ${count(v.tokens.input)} in, ${count(v.tokens.output)} out`);
  lines.push(`cost    ${costCell(v)}`);
  lines.push(`eta     ${v.etaMs === undefined ? dash : duration(v.etaMs)}`);
  return lines;
}

/** The part of a view that, when it changes, is worth a line in a log (not the ETA, which moves every poll). */
export function stateKey(v: RunView): string {
  return JSON.stringify([v.status, v.phase, v.parts, v.shards, v.rows?.done, v.shardStates?.counts, v.gather]);
}

/** `watch` when not on a terminal: one line per state change. */
export function watchLine(v: RunView, at: Date): string {
  const parts = [`${at.toISOString().slice(11, 19)} ${v.phase ?? v.status.toLowerCase()}`];
  if (v.parts && v.phase === 'preparing') parts.push(`parts ${v.parts.done}/${v.parts.total}`);
  if (v.shards) parts.push(`shards ${shardsCell(v.shards)}`);
  if (v.shardStates) parts.push(`waiting ${shardStatesCell(v.shardStates)}`);
  if (v.gather?.waiting) parts.push(`gather ${v.gather.waiting}`);
  if (v.rows) parts.push(`rows ${rowsCell(v.rows)}`);
  if (v.costUsd !== undefined) parts.push(`cost ${money(v.costUsd)}`);
  if (v.etaMs !== undefined) parts.push(`eta ${duration(v.etaMs)}`);
  return parts.join('  ');
}

/** `status --json`: the view with money rounded, and the whole summary of an ended run; lists are always arrays. */
export function statusJson(v: RunView, summary?: RunSummary): string {
  const round = (x: number | undefined) => (x === undefined ? undefined : roundUsd(x));
  const doc = {
    ...v,
    costUsd: round(v.costUsd),
    estimateUsd: round(v.estimateUsd),
    committedUsd: round(v.committedUsd),
    onDemand: v.onDemand && { ...v.onDemand, costUsd: round(v.onDemand.costUsd) },
    etaSeconds: v.etaMs === undefined ? undefined : Math.round(v.etaMs / 1000),
    etaMs: undefined,
    retrying: v.retrying ?? [],
    ...(summary ? { summary: { ...summary, failedShards: summary.failedShards ?? [], partialShards: summary.partialShards ?? [] } } : {}),
  };
  return JSON.stringify(doc, null, 2);
}
