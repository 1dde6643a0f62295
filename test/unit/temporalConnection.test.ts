import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientConnectionOptions, describeTemporal, nativeConnectionOptions, temporalSettingsFromEnv } from '../../src/temporalConnection';

// The settings are pure over (environment, files); connecting with them is tested in
// test/e2e/tlsConnection. The dev server does not check API keys, so the API key path is only
// checked here: that a profile's key reaches both connection options, with TLS on.
const dir = mkdtempSync(join(tmpdir(), 'temporal-conn-'));
/** No user's ~/.config/temporalio/temporal.toml leaks in: the default location is under `dir`. */
const base = { XDG_CONFIG_HOME: join(dir, 'no-config') };
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

test('with nothing configured: the local dev server, namespace default, the app task queue, plaintext', () => {
  const s = temporalSettingsFromEnv(base);
  expect(s).toMatchObject({ address: 'localhost:7233', namespace: 'default', taskQueue: 'bedrock-batch' });
  expect(s.tls).toBeUndefined();
  expect(describeTemporal(s)).toBe('localhost:7233 namespace default (plaintext; no config file, then TEMPORAL_* variables)');
});

test('an API key profile (Temporal Cloud) gives both connections the key and TLS, and no message shows the key', () => {
  const config = file('cloud.toml', '[profile.cloud]\naddress = "my-ns.a1b2c.tmprl.cloud:7233"\nnamespace = "my-ns.a1b2c"\napi_key = "secret-key-123"\n');
  const s = temporalSettingsFromEnv({ ...base, TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'cloud', TEMPORAL_TASK_QUEUE: 'batch-prod' });
  expect(s).toMatchObject({ address: 'my-ns.a1b2c.tmprl.cloud:7233', namespace: 'my-ns.a1b2c', apiKey: 'secret-key-123', tls: true, taskQueue: 'batch-prod' });
  expect(nativeConnectionOptions(s)).toMatchObject({ address: s.address, apiKey: 'secret-key-123', tls: true });
  expect(clientConnectionOptions(s)).toMatchObject({ address: s.address, apiKey: 'secret-key-123', tls: true });
  expect(describeTemporal(s)).toBe(`my-ns.a1b2c.tmprl.cloud:7233 namespace my-ns.a1b2c (TLS, API key; profile "cloud" of ${config}, then TEMPORAL_* variables)`);
  expect(describeTemporal(s)).not.toContain('secret');
});

test('TEMPORAL_* variables override the profile field by field; TLS files are read into the options', () => {
  const ca = file('ca.pem', 'CA PEM');
  const config = file('tls.toml', `[profile.default]\naddress = "temporal.internal:7233"\nnamespace = "batch"\n[profile.default.tls]\nserver_ca_cert_path = "${ca}"\n`);
  const cert = file('client.pem', 'CLIENT CERT');
  const key = file('client.key', 'CLIENT KEY');
  const s = temporalSettingsFromEnv({
    ...base,
    TEMPORAL_CONFIG_FILE: config,
    TEMPORAL_NAMESPACE: 'batch-staging',
    TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    TEMPORAL_GRPC_META_X_TEAM: 'data',
  });
  expect(s.address).toBe('temporal.internal:7233');
  expect(s.namespace).toBe('batch-staging');
  expect(s.metadata).toEqual({ 'x-team': 'data' });
  const tls = s.tls as { serverRootCACertificate: Buffer; clientCertPair: { crt: Buffer; key: Buffer } };
  expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe('CA PEM');
  expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe('CLIENT CERT');
  expect(Buffer.from(tls.clientCertPair.key).toString()).toBe('CLIENT KEY');
  expect(describeTemporal(s)).toContain('(TLS, own server CA, client certificate; profile "default"');
});

test('TEMPORAL_TLS=false turns TLS off even when the profile has it', () => {
  const config = file('tls-off.toml', '[profile.default]\naddress = "h:7233"\n[profile.default.tls]\nserver_name = "h"\n');
  expect(temporalSettingsFromEnv({ ...base, TEMPORAL_CONFIG_FILE: config, TEMPORAL_TLS: 'false' }).tls).toBe(false);
});

test('a config file or profile that does not exist is an error naming it, not a silent fallback to localhost', () => {
  expect(() => temporalSettingsFromEnv({ ...base, TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toThrow(`TEMPORAL_CONFIG_FILE=${join(dir, 'nope.toml')} does not exist`);
  const config = file('one.toml', '[profile.default]\naddress = "h:7233"\n');
  expect(() => temporalSettingsFromEnv({ ...base, TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'prod' })).toThrow(
    `cannot load the Temporal connection profile from ${config}: Profile 'prod' not found in config data`,
  );
});
