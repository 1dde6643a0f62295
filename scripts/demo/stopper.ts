/**
 * What the demo started, stopped in reverse order of starting — the worker before the servers it
 * talks to — once, whether the demo ends, fails, or gets Ctrl-C / SIGTERM at any point.
 */
export interface Stopper {
  add(name: string, stop: () => Promise<unknown> | unknown): void;
  stopAll(): Promise<void>;
}

export function createStopper(log: (line: string) => void, stepTimeoutMs = 10_000): Stopper {
  const steps: Array<{ name: string; stop: () => Promise<unknown> | unknown }> = [];
  let stopping: Promise<void> | undefined;
  const runAll = async () => {
    for (const { name, stop } of steps.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      // A step that hangs (a worker waiting on an activity) must not keep the rest running.
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log(`  ${name} did not stop within ${stepTimeoutMs / 1000} s; going on`);
          resolve();
        }, stepTimeoutMs);
      });
      await Promise.race([Promise.resolve().then(stop), timeout]).catch((err) => log(`  stopping ${name} failed: ${(err as Error).message}`));
      clearTimeout(timer);
    }
  };
  return {
    add: (name, stop) => {
      steps.push({ name, stop });
    },
    stopAll: () => {
      stopping ??= runAll();
      return stopping;
    },
  };
}

/**
 * Ctrl-C (SIGINT) and SIGTERM stop everything, then exit with the signal's conventional code.
 * A second signal exits at once; the server processes are then SIGKILLed by the exit hook of
 * src/localstack (children.ts), so none is left behind either way.
 */
export function stopOnSignals(stopper: Stopper, log: (line: string) => void): void {
  let received = 0;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      received += 1;
      if (received > 1) process.exit(code);
      log(`\n${signal}: stopping the local stack…`);
      void stopper.stopAll().finally(() => process.exit(code));
    });
  }
}
