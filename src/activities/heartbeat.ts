import { Context } from '@temporalio/activity';

const PROGRESS_HEARTBEAT_MS = 1000;

/** The current activity's heartbeat, at most one a second; none outside an activity (tests and the estimate call activities directly). */
export function progressHeartbeat(): (details: unknown) => void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return () => undefined;
  }
  let last = 0;
  return (details) => {
    const now = Date.now();
    if (now - last < PROGRESS_HEARTBEAT_MS) return;
    last = now;
    ctx.heartbeat(details);
  };
}
