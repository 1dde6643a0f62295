import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, LogEntry, Runtime, RuntimeOptions } from '@temporalio/worker';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * The worker process's Temporal Runtime, from the environment:
 *   BATCH_METRICS_ADDRESS  host:port for the SDK's Prometheus exporter (GET /metrics); off when unset
 *   BATCH_LOG_FORMAT       `json`: one JSON object a line (time, level, message and the SDK's
 *                          attributes: workflowId — a shard's is `<run>/shard-N` —, runId,
 *                          activityType, attempt, …); otherwise the SDK's text lines
 *   BATCH_LOG_LEVEL        TRACE, DEBUG (every activity and workflow start and end), INFO (default), WARN, ERROR
 */
export function runtimeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeOptions {
  const level = (env.BATCH_LOG_LEVEL?.toUpperCase() ?? 'INFO') as LogLevel;
  if (!LEVELS.includes(level)) throw new Error(`BATCH_LOG_LEVEL=${env.BATCH_LOG_LEVEL}: expected one of ${LEVELS.join(', ')}`);
  const format = env.BATCH_LOG_FORMAT ?? 'text';
  if (format !== 'json' && format !== 'text') throw new Error(`BATCH_LOG_FORMAT=${format}: expected json or text`);
  return {
    logger: format === 'json' ? new DefaultLogger(level, (entry) => process.stderr.write(`${jsonLogLine(entry)}\n`)) : new DefaultLogger(level),
    ...(env.BATCH_METRICS_ADDRESS ? { telemetryOptions: { metrics: { prometheus: { bindAddress: env.BATCH_METRICS_ADDRESS } } } } : {}),
  };
}

/** Installs the Runtime: once per process, before the first NativeConnection (the SDK's rule). */
export function installRuntime(env: NodeJS.ProcessEnv = process.env): void {
  Runtime.install(runtimeOptionsFromEnv(env));
}

/**
 * One log entry as one line of JSON; errors keep their message and stack, bigints become strings,
 * and an object met again on the way down (the SDK logs its worker options, plugins included, which
 * can hold cycles) becomes "[Circular]" instead of throwing in the logger.
 */
export function jsonLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const ancestors: object[] = [];
  return JSON.stringify({ time, level: entry.level, message: entry.message, ...plain(entry.meta) }, function (this: unknown, _key, value: unknown) {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
    if (typeof value !== 'object' || value === null) return value;
    // `this` is the object holding `value`: drop the ancestors that are no longer on the path.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  });
}

function plain(meta: LogMetadata | undefined): Record<string, unknown> {
  return meta ? Object.fromEntries(Object.entries(meta)) : {};
}
