import { jsonLogLine, runtimeOptionsFromEnv } from '../../src/telemetry';

test('BATCH_METRICS_ADDRESS turns on the Prometheus exporter; unset, no telemetry options at all', () => {
  expect(runtimeOptionsFromEnv({ BATCH_METRICS_ADDRESS: '0.0.0.0:9464' }).telemetryOptions).toEqual({ metrics: { prometheus: { bindAddress: '0.0.0.0:9464' } } });
  expect(runtimeOptionsFromEnv({}).telemetryOptions).toBeUndefined();
});

test('a wrong log level or format is an error naming the variable, not silently the default', () => {
  expect(() => runtimeOptionsFromEnv({ BATCH_LOG_LEVEL: 'verbose' })).toThrow('BATCH_LOG_LEVEL=verbose: expected one of TRACE, DEBUG, INFO, WARN, ERROR');
  expect(() => runtimeOptionsFromEnv({ BATCH_LOG_FORMAT: 'yaml' })).toThrow('BATCH_LOG_FORMAT=yaml: expected json or text');
});

test('a JSON log line has time, level, message and the attributes, with errors and bigints kept readable', () => {
  const line = jsonLogLine({
    level: 'WARN',
    message: 'Bedrock job failed',
    timestampNanos: 1_764_540_000_123_000_000n,
    meta: { workflowId: 'run-1/shard-3', runId: 'abc', attempt: 2, bytes: 5n, error: new Error('boom') },
  });
  expect(line).not.toContain('\n');
  const parsed = JSON.parse(line);
  expect(parsed).toMatchObject({ time: '2025-11-30T22:00:00.123Z', level: 'WARN', message: 'Bedrock job failed', workflowId: 'run-1/shard-3', runId: 'abc', attempt: 2, bytes: '5' });
  expect(parsed.error).toMatchObject({ name: 'Error', message: 'boom' });
});
