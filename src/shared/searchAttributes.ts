import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Typed search attributes a batch run upserts as it moves, so the Web UI, `temporal workflow list
 * --query` and our CLI's `list` can filter runs by model, phase and outcome. They must be
 * registered on the namespace before a run upserts them (the worker does it at start where it may;
 * the local stack registers them at launch).
 */
export const BATCH_PHASE = defineSearchAttributeKey('BatchPhase', SearchAttributeType.KEYWORD);
/** `complete`, `complete_with_errors` or `incomplete`, set when the run ends. */
export const BATCH_OUTCOME = defineSearchAttributeKey('BatchOutcome', SearchAttributeType.KEYWORD);
export const BATCH_MODEL = defineSearchAttributeKey('BatchModel', SearchAttributeType.KEYWORD);
export const BATCH_RUN_KEY = defineSearchAttributeKey('BatchRunKey', SearchAttributeType.KEYWORD);
export const BATCH_ROWS_DONE = defineSearchAttributeKey('BatchRowsDone', SearchAttributeType.INT);
/** `run` on a parent run, `shard` on a shard's child workflow: lets a list show parents only. */
export const BATCH_ROLE = defineSearchAttributeKey('BatchRole', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal operator search-attribute create` and the dev server's `--search-attribute` take them. */
export const BATCH_SEARCH_ATTRIBUTES = {
  BatchPhase: 'Keyword',
  BatchOutcome: 'Keyword',
  BatchModel: 'Keyword',
  BatchRunKey: 'Keyword',
  BatchRowsDone: 'Int',
  BatchRole: 'Keyword',
} as const;
