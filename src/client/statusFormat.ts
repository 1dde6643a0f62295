import type { RunSummary } from '../shared/types';
import { bar, count, duration, money, roundUsd, table } from './format';
import type { RunView } from './runView';

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

/** `status`: the run as a two-column table a person reads top to bottom. */
export function statusLines(v: RunView): string[] {
  const rows: string[][] = [
    ['run', `${v.workflowId} (${v.status.toLowerCase()})`],
    ['model', v.modelId ?? dash],
    ['phase', v.phase ?? (v.status === 'RUNNING' ? 'unknown: the progress query got no answer (is a worker running?)' : dash)],
  ];
  if (v.parts) rows.push(['parts', `${v.parts.done}/${v.parts.total} prepared`]);
  if (v.shards) rows.push(['shards', shardsCell(v.shards)]);
  if (v.rows) rows.push(['rows', rowsCell(v.rows)]);
  if (v.tokens) rows.push(['tokens', `${count(v.tokens.input)} in, ${count(v.tokens.output)} out`]);
  rows.push(['cost', costCell(v)]);
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
  if (v.rows) lines.push(`rows    ${rowsCell(v.rows)}`);
  if (v.tokens) lines.push(`tokens  ${count(v.tokens.input)} in, ${count(v.tokens.output)} out`);
  lines.push(`cost    ${costCell(v)}`);
  lines.push(`eta     ${v.etaMs === undefined ? dash : duration(v.etaMs)}`);
  return lines;
}

/** The part of a view that, when it changes, is worth a line in a log (not the ETA, which moves every poll). */
export function stateKey(v: RunView): string {
  return JSON.stringify([v.status, v.phase, v.parts, v.shards, v.rows?.done]);
}

/** `watch` when not on a terminal: one line per state change. */
export function watchLine(v: RunView, at: Date): string {
  const parts = [`${at.toISOString().slice(11, 19)} ${v.phase ?? v.status.toLowerCase()}`];
  if (v.parts && v.phase === 'preparing') parts.push(`parts ${v.parts.done}/${v.parts.total}`);
  if (v.shards) parts.push(`shards ${shardsCell(v.shards)}`);
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
    etaSeconds: v.etaMs === undefined ? undefined : Math.round(v.etaMs / 1000),
    etaMs: undefined,
    retrying: v.retrying ?? [],
    ...(summary ? { summary: { ...summary, failedShards: summary.failedShards ?? [], partialShards: summary.partialShards ?? [] } } : {}),
  };
  return JSON.stringify(doc, null, 2);
}
