import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributePair, SearchAttributeUpdatePair } from '@temporalio/common';
import { BATCH_MODEL, BATCH_OUTCOME, BATCH_PHASE, BATCH_ROLE, BATCH_ROWS_DONE, BATCH_RUN_KEY } from '../shared/searchAttributes';
import type { BatchRunProgress, PreparedShards, ResolvedRun, RunOutcome } from '../shared/types';
import { shardRecords } from '../core/shardPlan';
import { bedrockJobName } from '../shared/jobNames';
import { controlRows } from '../shared/controls';

/**
 * Marks histories in which a run upserts its search attributes and starts shards with theirs.
 * Each upsert is a workflow command, so histories recorded before it must replay without them.
 */
export const SEARCH_ATTRIBUTES_PATCH = 'search-attributes';

/** What an operator sees of a run in the Web UI: search attributes to filter by, and a current-details table. */
export class RunBoard {
  /** Decided once at the start, so a replayed old run stays without upserts to its end. */
  private readonly upserts: boolean;
  private run?: ResolvedRun;
  private prepared?: PreparedShards;
  private phaseSet?: string;
  private rowsSet?: number;

  constructor(private readonly progress: BatchRunProgress) {
    this.upserts = patched(SEARCH_ATTRIBUTES_PATCH);
  }

  /** At start: the run is a parent (`BatchRole=run`), so the list can hide its shards; the model as given. */
  started(modelId: unknown): void {
    const pairs: SearchAttributeUpdatePair[] = [{ key: BATCH_ROLE, value: 'run' }];
    if (typeof modelId === 'string' && modelId) pairs.push({ key: BATCH_MODEL, value: modelId });
    this.upsert(pairs);
    this.phase();
  }

  /**
   * Once resolved, and again at the start of every continued page: continue-as-new passes no
   * search attributes of its own, so each page sets them again rather than rely on the server
   * carrying them over.
   */
  resolved(run: ResolvedRun, prepared?: PreparedShards): void {
    this.run = run;
    this.prepared = prepared ?? this.prepared;
    this.upsert([
      { key: BATCH_ROLE, value: 'run' },
      { key: BATCH_MODEL, value: run.modelId },
      { key: BATCH_RUN_KEY, value: run.runKey },
    ]);
    this.rowsDone();
    // A continued page upserts its phase (`running`) once it has its shards, not `resolving` first.
    this.refresh();
  }

  preparedShards(prepared: PreparedShards): void {
    this.prepared = prepared;
    this.phase();
  }

  /** Upserts `BatchPhase` when it changed, and refreshes the details. */
  phase(): void {
    if (this.phaseSet !== this.progress.phase) {
      this.phaseSet = this.progress.phase;
      this.upsert([{ key: BATCH_PHASE, value: this.progress.phase }]);
    }
    this.refresh();
  }

  /** A shard finished: rows written so far (one upsert per shard; pages bound how many a history holds). */
  shardDone(): void {
    this.rowsDone();
    this.refresh();
  }

  /** A live setting changed (an update): details only, never an upsert, so an update adds no command. */
  settingsChanged(): void {
    this.refresh();
  }

  /** Rows, phase `done` and the outcome in one upsert: the last the run makes. */
  ended(outcome: RunOutcome | undefined): void {
    const pairs: SearchAttributeUpdatePair[] = [{ key: BATCH_PHASE, value: this.progress.phase }];
    if (this.rowsSet !== this.progress.totals.rows) pairs.push({ key: BATCH_ROWS_DONE, value: this.progress.totals.rows });
    if (outcome) pairs.push({ key: BATCH_OUTCOME, value: outcome });
    this.phaseSet = this.progress.phase;
    this.rowsSet = this.progress.totals.rows;
    this.upsert(pairs);
    this.refresh();
  }

  /** Typed attributes and a static summary for shard `shardIndex`'s child workflow. */
  shardOptions(run: ResolvedRun, prepared: PreparedShards, shardIndex: number): { staticSummary: string; typedSearchAttributes?: SearchAttributePair[] } {
    const rows = prepared.shardCount > 0 ? shardRecords({ records: prepared.rowCount, shards: prepared.shardCount }, shardIndex) : 0;
    // The first job's name is known before it is submitted (it derives from the run key): an operator can find it in Bedrock.
    const staticSummary = `shard ${shardIndex} of ${prepared.shardCount} · ${formatCount(rows)} rows · job ${bedrockJobName(run.runName, run.runKey, shardIndex, 1)}`;
    if (!this.upserts) return { staticSummary };
    const typedSearchAttributes: SearchAttributePair[] = [
      { key: BATCH_ROLE, value: 'shard' },
      { key: BATCH_MODEL, value: run.modelId },
      { key: BATCH_RUN_KEY, value: run.runKey },
    ];
    return { staticSummary, typedSearchAttributes };
  }

  private rowsDone(): void {
    const rows = this.progress.totals.rows;
    if (this.rowsSet === rows) return;
    this.rowsSet = rows;
    this.upsert([{ key: BATCH_ROWS_DONE, value: rows }]);
  }

  private upsert(pairs: SearchAttributeUpdatePair[]): void {
    if (this.upserts) upsertSearchAttributes(pairs);
  }

  /** Not a command: the UI reads current details by query, so they may change on every event. */
  private refresh(): void {
    setCurrentDetails(runDetails(this.progress, this.run, this.prepared));
  }
}

/**
 * The run as a markdown table: phase, parts, shards, rows, tokens, cost so far, failures; counts and
 * references only. Amounts say USD, not `$`: the UI's markdown renderer reads `$…$` as math.
 */
export function runDetails(p: BatchRunProgress, run?: ResolvedRun, prepared?: PreparedShards): string {
  const t = p.totals;
  const shardCount = p.shardCount ?? prepared?.shardCount;
  const rowCount = p.rowCount ?? prepared?.rowCount;
  const est = prepared?.estimate;
  const lines: Array<[string, string]> = [['phase', p.phase]];
  if (run) {
    lines.push(['input', `\`${run.inputUri}\``], ['model', `\`${run.modelId}\``], ['run key', `\`${run.runKey}\``], ['output', `\`${run.runUri}/\``]);
  }
  if (p.partsTotal !== undefined) lines.push(['parts', `${p.partsDone ?? 0} of ${p.partsTotal} prepared`]);
  if (shardCount !== undefined) {
    const failed = t.shardsFailed + (t.shardsPartial ?? 0);
    lines.push(['shards', `${t.shardsDone} of ${shardCount} done · ${p.shardsRunning} running · ${failed} failed or partial`]);
  }
  lines.push(['rows', `${formatCount(t.rows)}${rowCount !== undefined ? ` of ${formatCount(rowCount)}` : ''} written · ${formatCount(t.succeeded)} answered`]);
  lines.push(['tokens', `${formatCount(t.inputTokens)} in · ${formatCount(t.outputTokens)} out`]);
  const cost = [`USD ${(t.batchCostUsd ?? 0).toFixed(4)} so far (batch price)`];
  if (t.committedCostUsd !== undefined) cost.push(`up to USD ${t.committedCostUsd.toFixed(4)} committed`);
  if (est?.cost.batchCost !== undefined) cost.push(`estimate up to USD ${est.cost.batchCost.toFixed(4)}`);
  lines.push(['cost', cost.join(' · ')]);
  if (est) lines.push(['estimate', `${formatCount(est.records)} records · ${est.jobs} jobs · ${formatCount(est.inputTokens)} input tokens`]);
  lines.push(['failures', failures(p)]);
  if (p.controls) lines.push(...controlRows(p.controls));
  return ['**Batch run**', '', '| | |', '|---|---|', ...lines.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n');
}

function failures(p: BatchRunProgress): string {
  const t = p.totals;
  if (t.failed === 0 && t.failedShards.length === 0) return 'none';
  const named = [...t.failedShards, ...(t.partialShards ?? [])]
    .slice(0, 3)
    .map((s) => `shard ${s.shardIndex}${s.message ? `: ${s.message.slice(0, 120)}` : ''}`);
  return [`${formatCount(t.failed)} rows (${formatCount(t.recordErrors ?? 0)} record errors, ${formatCount(t.unanswered ?? 0)} unanswered)`, ...named].join('; ');
}

/** The child's current details: which Bedrock job, its status, and which attempt. */
export function shardDetails(shardIndex: number, attempt: number, status: string, jobArn?: string): void {
  const rows: Array<[string, string]> = [
    ['shard', String(shardIndex)],
    ['attempt', String(attempt)],
    ['status', status],
    ['job', jobArn ? `\`${jobArn}\`` : '—'],
  ];
  setCurrentDetails(['**Bedrock job**', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n'));
}

/** 1234567 → "1,234,567", without Intl (the workflow sandbox need not have the same locale data everywhere). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
