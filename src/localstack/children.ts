import type { ChildProcess } from 'node:child_process';

/** Servers still running, killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Registers a server process so that it dies with this process: a test runner or the demo that
 * exits (or is stopped by a signal and exits) never leaves a dev server or moto holding a port.
 * 'exit' listeners must be synchronous, hence SIGKILL rather than a graceful stop.
 */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}
