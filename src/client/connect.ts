import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config';
import { clientConnectionOptions, explainConnectFailure } from '../temporalConnection';

export interface TemporalSession {
  client: Client;
  close(): Promise<void>;
}

/**
 * The CLI's one way to reach Temporal: every command that needs a client gets it from here, so
 * how the CLI connects (address, namespace, TLS, profiles) is decided in this function alone.
 */
export async function connectTemporal(config: AppConfig): Promise<TemporalSession> {
  const connection = await explainConnectFailure(config.temporal, Connection.connect(clientConnectionOptions(config.temporal)));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return { client, close: () => connection.close() };
}
