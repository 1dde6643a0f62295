import { jsonLogLine, runtimeOptionsFromEnv } from '../../src/telemetry';
import { tracingFromEnv } from '../../src/tracing';

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

test('a JSON log line survives a cycle in its attributes (the SDK logs worker options that can hold one)', () => {
  const plugin: Record<string, unknown> = { name: 'tracing' };
  plugin.self = { back: plugin };
  const shared = { n: 1 };
  const line = jsonLogLine({ level: 'DEBUG', message: 'Creating worker', timestampNanos: 0n, meta: { options: { plugins: [plugin], a: shared, b: shared } } });
  expect(JSON.parse(line).options).toEqual({ plugins: [{ name: 'tracing', self: { back: '[Circular]' } }], a: { n: 1 }, b: { n: 1 } });
});

test('tracing is off unless the standard OTel variables ask for it; a wrong exporter name is an error', async () => {
  expect(tracingFromEnv({})).toBeUndefined();
  expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
  expect(() => tracingFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow('OTEL_TRACES_EXPORTER=zipkin: expected otlp, console or none');
  const tracing = tracingFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' });
  expect(tracing?.description).toBe('OpenTelemetry traces to http://collector:4318/v1/traces');
  expect(tracing?.plugin.name).toBe('OpenTelemetryPlugin');
  await tracing?.shutdown();
});
