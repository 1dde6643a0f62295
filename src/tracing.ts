import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  plugin: OpenTelemetryPlugin;
  /** Where spans go, for the worker's start line. */
  description: string;
  /** Sends the spans still buffered; call after the worker stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing of workflows and activities, off unless the standard OTel variables ask
 * for it, so an operator configures it as for any other service:
 *   OTEL_TRACES_EXPORTER                      `otlp` or `console` (`none`: off)
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT   an OTLP/HTTP (JSON) collector; setting one turns tracing on
 *   OTEL_SERVICE_NAME                         default `bedrock-batch-worker`
 * Workflow spans leave the sandbox through the plugin's sink, so replays never export twice.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const kind = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || (endpoint ? 'otlp' : 'none');
  if (kind === 'none') return undefined;
  if (kind !== 'otlp' && kind !== 'console') throw new Error(`OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}: expected otlp, console or none`);
  // The exporter reads the endpoint, headers and timeout variables itself, as OTel specifies them.
  const exporter: SpanExporter = kind === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter();
  const spanProcessor = new BatchSpanProcessor(exporter);
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || 'bedrock-batch-worker' });
  // Workflow spans reach the processor through the plugin's sink; activity spans through this
  // tracer (without it they would go to the global provider, a no-op unless someone registered one).
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // An activity reads its parent span from the headers the workflow wrote through the global
  // propagator and makes it current through the global context manager; both are no-ops until set,
  // and without them every activity span would start a trace of its own.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor, tracer: provider.getTracer('bedrock-batch') }),
    description: kind === 'otlp' ? `OpenTelemetry traces to ${endpoint ?? 'http://localhost:4318/v1/traces'}` : 'OpenTelemetry traces to stdout',
    shutdown: () => provider.shutdown(),
  };
}
