import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { TASK_QUEUE } from './shared/types';

/**
 * How the worker and the CLI reach Temporal, loaded the way Temporal's own tools load it
 * (`@temporalio/envconfig`): a profile of a `temporal.toml` file (TEMPORAL_CONFIG_FILE, else
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE, else `default`), overridden field by field
 * by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_*
 * and TEMPORAL_GRPC_META_*. So one worker build runs against the dev server, an mTLS cluster or
 * Temporal Cloud with configuration only.
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Not part of envconfig (a profile names a server, not an application's queue). */
  taskQueue: string;
  /** Same shape in NativeConnectionOptions and ConnectionOptions. */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
  /** Where the settings came from, for log lines and connect errors. */
  source: string;
}

const DEFAULT_ADDRESS = 'localhost:7233';

/** Reads the settings; throws naming the file when TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE points at nothing. */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const vars = definedVars(env);
  const file = vars.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(vars);
  // envconfig treats a missing file as "no profiles"; a file named explicitly and absent is a typo.
  if (vars.TEMPORAL_CONFIG_FILE && !existsSync(vars.TEMPORAL_CONFIG_FILE)) {
    throw new Error(`TEMPORAL_CONFIG_FILE=${vars.TEMPORAL_CONFIG_FILE} does not exist`);
  }
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (err) {
    throw new Error(`cannot load the Temporal connection profile from ${file}: ${(err as Error).message}`);
  }
  const opts = loaded.connectionOptions;
  const profile = vars.TEMPORAL_PROFILE ?? 'default';
  const fromFile = existsSync(file) ? `profile "${profile}" of ${file}` : 'no config file';
  return {
    address: opts.address ?? DEFAULT_ADDRESS,
    namespace: loaded.namespace ?? 'default',
    taskQueue: vars.TEMPORAL_TASK_QUEUE ?? TASK_QUEUE,
    ...(opts.tls !== undefined && opts.tls !== null ? { tls: opts.tls } : {}),
    ...(opts.apiKey ? { apiKey: opts.apiKey as string } : {}),
    ...(opts.metadata && Object.keys(opts.metadata).length ? { metadata: opts.metadata as Record<string, string> } : {}),
    source: `${fromFile}, then TEMPORAL_* variables`,
  };
}

/** For the worker's NativeConnection.connect. */
export function nativeConnectionOptions(s: TemporalSettings): NativeConnectionOptions {
  return { address: s.address, tls: s.tls, apiKey: s.apiKey, metadata: s.metadata };
}

/** For the client's Connection.connect (CLI, scripts). */
export function clientConnectionOptions(s: TemporalSettings): ConnectionOptions {
  return { address: s.address, tls: s.tls, apiKey: s.apiKey, metadata: s.metadata };
}

/** One line for logs and errors: address, namespace and how the connection is secured (never a secret). */
export function describeTemporal(s: TemporalSettings): string {
  const tls = !s.tls ? 'plaintext' : tlsWords(s.tls);
  const key = s.apiKey ? ', API key' : '';
  return `${s.address} namespace ${s.namespace} (${tls}${key}; ${s.source})`;
}

/**
 * Runs a connect and, if it fails, rethrows with where it tried to connect and how: the SDKs'
 * own errors ("transport error", "deadline exceeded") do not say which server or which certificate.
 */
export async function explainConnectFailure<T>(s: TemporalSettings, connecting: Promise<T>): Promise<T> {
  try {
    return await connecting;
  } catch (err) {
    const hint =
      s.tls && typeof s.tls === 'object' && !s.tls.clientCertPair
        ? ' If the server requires a client certificate (mTLS), set tls.client_cert_path and tls.client_key_path in the profile or TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH.'
        : '';
    throw new Error(`cannot connect to Temporal at ${describeTemporal(s)}: ${(err as Error).message}.${hint}`, { cause: err });
  }
}

function tlsWords(tls: TLSConfig | true): string {
  if (tls === true) return 'TLS';
  const parts = ['TLS'];
  if (tls.serverRootCACertificate) parts.push('own server CA');
  if (tls.serverNameOverride) parts.push(`server name ${tls.serverNameOverride}`);
  parts.push(tls.clientCertPair ? 'client certificate' : 'no client certificate');
  return parts.join(', ');
}

function definedVars(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** envconfig's own default location (it does not export it): $XDG_CONFIG_HOME or ~/.config, then temporalio/temporal.toml. */
function defaultConfigFile(vars: Record<string, string>): string {
  return join(vars.XDG_CONFIG_HOME || join(homedir(), '.config'), 'temporalio', 'temporal.toml');
}
