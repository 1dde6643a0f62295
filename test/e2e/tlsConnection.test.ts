import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/client/cli';
import { findTemporalBinary } from '../../src/localstack';
import { TestCerts, makeTestCerts } from '../support/certs';
import { sampleRows, uploadCsv } from '../support/data';
import { LocalStack, startLocalStack } from '../support/localStack';
import { textRun } from '../support/runs';
import { TlsProxy, startTlsProxy } from '../support/tlsProxy';
import { WorkerProcess, spawnWorkerProcess } from '../support/workerProcess';

// The dev server has no TLS option (`temporal server start-dev --help`), so a TLS-terminating
// proxy demanding client certificates stands in for a secured cluster; the worker process, our
// CLI and the temporal CLI reach it through one temporal.toml, as they would a real one.
let stack: LocalStack;
let certs: TestCerts;
let proxy: TlsProxy;
let configFile: string;
let worker: WorkerProcess | undefined;
const savedEnv = { ...process.env };

/** The stack's AWS endpoints and test credentials, but Temporal only from the profile. */
function envFor(profile: string): Record<string, string> {
  const { TEMPORAL_ADDRESS: _address, ...aws } = stack.env;
  return { ...aws, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: profile };
}

beforeAll(async () => {
  stack = await startLocalStack({ inProgressMs: 300 });
  certs = makeTestCerts();
  proxy = await startTlsProxy(stack.temporal.port, certs);
  configFile = join(certs.dir, 'temporal.toml');
  writeFileSync(
    configFile,
    [
      '[profile.mtls]',
      `address = "${proxy.address}"`,
      'namespace = "default"',
      '[profile.mtls.tls]',
      // The certificate names both; a host name also spares Node's TLS its warning about IP SNI.
      'server_name = "localhost"',
      `server_ca_cert_path = "${certs.caCert}"`,
      `client_cert_path = "${certs.clientCert}"`,
      `client_key_path = "${certs.clientKey}"`,
      '',
      '[profile.no-client-cert]',
      `address = "${proxy.address}"`,
      '[profile.no-client-cert.tls]',
      'server_name = "localhost"',
      `server_ca_cert_path = "${certs.caCert}"`,
      '',
    ].join('\n'),
  );
  delete process.env.TEMPORAL_ADDRESS;
}, 180_000);

afterAll(async () => {
  process.env = savedEnv;
  await worker?.kill('SIGTERM');
  await proxy?.close();
  await stack?.stop();
});

test('with a profile naming the CA, client certificate and key, the worker and both CLIs connect over mTLS and a run completes', async () => {
  worker = await spawnWorkerProcess(envFor('mtls'));
  expect(worker.output()).toContain(`on ${proxy.address} namespace default (TLS, own server CA, server name localhost, client certificate; profile "mtls" of ${configFile}`);

  await uploadCsv(stack.s3, 's3://datasets/over-mtls.csv', sampleRows(200));
  Object.assign(process.env, envFor('mtls'));
  const lines: string[] = [];
  const code = await runCli(['start', '--input', JSON.stringify(textRun('over-mtls')), '--workflow-id', 'over-mtls', '--wait'], (l) => lines.push(l));
  expect(lines.join('\n')).toMatch(/run complete: all 200 rows answered/);
  expect(code).toBe(0);

  // Asynchronously: the proxy runs in this process, so a synchronous exec would block it.
  const described = await promisify(execFile)(findTemporalBinary(), ['workflow', 'describe', '--workflow-id', 'over-mtls', '--config-file', configFile, '--profile', 'mtls', '--output', 'json']);
  expect(JSON.parse(described.stdout).workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
  expect(proxy.rejected).toEqual([]);
});

test('without the client certificate the CLI and the worker fail naming the server, the profile and the missing certificate', async () => {
  Object.assign(process.env, envFor('no-client-cert'));
  const error = await runCli(['cancel', 'over-mtls'], () => undefined).then(() => 'connected', (err: Error) => err.message);
  expect(error).toContain(`cannot connect to Temporal at ${proxy.address} namespace default (TLS, own server CA, server name localhost, no client certificate; profile "no-client-cert" of ${configFile}`);
  expect(error).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');

  const failed = await spawnWorkerProcess(envFor('no-client-cert'), 60_000).then(() => 'started', (err: Error) => err.message);
  expect(failed).toMatch(/worker exited with 1 before polling/);
  expect(failed).toContain(`cannot connect to Temporal at ${proxy.address}`);
  // The proxy saw the handshakes and refused them for the missing certificate, not something else.
  expect(proxy.rejected.length).toBeGreaterThan(0);
  expect(proxy.rejected.join('\n')).toMatch(/certificate/i);
}, 120_000);
