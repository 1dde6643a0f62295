import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/localstack/ports';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CREDENTIALS, Env, REGION, claudeRecords, createJob, putJsonl, startEnv, waitForStatus } from './helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

test('npm run emulator: env-configured server logs its URL and each transition, and exits cleanly on SIGTERM', async () => {
  const port = await freePort();
  const root = join(__dirname, '..', '..');
  const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'src', 'emulator', 'main.ts')], {
    env: { ...process.env, EMULATOR_PORT: String(port), AWS_ENDPOINT_URL_S3: env.moto.endpoint, AWS_REGION: 'eu-west-1', EMULATOR_INPROGRESS_MS: '50' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!out.includes('listening on')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`emulator did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain(`listening on http://127.0.0.1:${port}`);

    const bedrock = new BedrockClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION, credentials: CREDENTIALS });
    const inputUri = await putJsonl(env.s3, 'main/in.jsonl', claudeRecords(100));
    const arn = await createJob(bedrock, { inputUri, jobName: 'from-main' });
    expect(arn).toMatch(/^arn:aws:bedrock:eu-west-1:/);
    expect((await waitForStatus(bedrock, arn)).status).toBe('Completed');
    bedrock.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/from-main \S+ InProgress -> Completed/);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(out).toContain('SIGTERM received');
});
