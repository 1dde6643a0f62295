import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { RunSummary } from '../shared/types';

/** Exit codes of `start --wait` and `result`, so scripts can tell how a run ended. */
export const EXIT = {
  complete: 0,
  usage: 1,
  completeWithErrors: 2,
  incomplete: 3,
  failed: 4,
  cancelled: 5,
} as const;

/**
 * Every message down an error's cause chain, outermost first, without repeats: a failed run's
 * reason sits two causes below "Workflow execution failed" (workflow → activity → application).
 */
export function causeChain(err: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    const text = e.message.trim();
    if (text && !messages.some((m) => m === text)) messages.push(text);
  }
  return messages.length ? messages.join(': ') : String(err);
}


export function exitCodeOfSummary(summary: RunSummary, acceptErrors: boolean): number {
  // Summaries written before outcomes existed count failed rows only.
  const outcome = summary.outcome ?? (summary.failed > 0 ? 'incomplete' : 'complete');
  if (outcome === 'complete') return EXIT.complete;
  if (outcome === 'complete_with_errors') return acceptErrors ? EXIT.complete : EXIT.completeWithErrors;
  return EXIT.incomplete;
}

export function exitCodeOfFailure(err: unknown): number {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  return cause instanceof CancelledFailure ? EXIT.cancelled : EXIT.failed;
}

/** One line a person reads first: how the run ended and why. */
export function outcomeLine(summary: RunSummary): string {
  const outcome = summary.outcome ?? 'unknown';
  return `run ${outcome}: ${summary.outcomeReason ?? `${summary.succeeded} of ${summary.rows} rows answered`} (output: ${summary.manifestUri})`;
}
