import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const REPO = resolve(__dirname, '../..');
const run = promisify(execFile);

/** Every process under `pid`, children of children included (moto, the dev server), as `pid command`. */
function descendants(pid: number): string[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  const children = new Map<number, string[]>();
  for (const line of out.trim().split('\n')) {
    const [p, pp, comm] = line.trim().split(/\s+/);
    children.set(Number(pp), [...(children.get(Number(pp)) ?? []), `${p} ${comm}`]);
  }
  const found: string[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      walk(Number.parseInt(c, 10));
    }
  };
  walk(pid);
  return found;
}

/** Running, not a zombie: an orphan that exited waits as a zombie until PID 1 reaps it. */
const alive = (proc: string) => {
  try {
    const stat = readFileSync(`/proc/${Number.parseInt(proc, 10)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** The environment of a fresh shell: no AWS or Temporal settings, no .local/bin on PATH. */
function bareEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(AWS_|TEMPORAL_)/.test(k)) env[k] = v;
  }
  env.PATH = (env.PATH ?? '').split(':').filter((d) => !d.startsWith(REPO)).join(':');
  return env;
}

let demo: ChildProcess | undefined;
afterAll(() => {
  if (demo && demo.exitCode === null) demo.kill('SIGKILL');
});

test('demo --keep: output copied locally with a reader command that works, an env file the CLI and temporal use as they are, SIGTERM stops every process', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'demo-state-'));
  demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--keep'], {
    cwd: REPO,
    env: { ...process.env, DEMO_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`demo not up in time:\n${output}`)), 150_000);
    const check = () => {
      if (!output.includes('the stack stays up')) return;
      clearTimeout(timer);
      ready();
    };
    demo!.stdout!.on('data', check);
    void exited.then((code) => fail(new Error(`demo exited with ${code}:\n${output}`)));
  });

  // Progress shows the preprocessing phases, not only the shards.
  expect(output).toMatch(/preparing: /);
  expect(output).toMatch(/running: shards \d\/3 done/);

  const workflowId = /started run (demo-\d+)/.exec(output)![1];
  const outDir = join(stateDir, 'demo-output', workflowId);
  expect(output).toContain(`the Parquet files are copied to ${outDir}`);
  expect(readdirSync(outDir).filter((f) => f.endsWith('.parquet'))).toHaveLength(3);
  const reader = output.split('\n')[output.split('\n').findIndex((l) => l.startsWith('read them with:')) + 1].trim();
  expect((await run('bash', ['-c', reader], { env: bareEnv() })).stdout).toMatch(/^300 rows/);

  // A fresh shell that sources the env file reaches the stack with our CLI (estimate needs S3
  // and Bedrock endpoints and credentials) and with `temporal` (PATH).
  const envFile = join(stateDir, 'stack.env');
  expect(output).toContain(`source ${envFile}`);
  const inShell = (cmd: string) => run('bash', ['-c', `source '${envFile}' && cd '${REPO}' && ${cmd}`], { env: bareEnv() });
  const described = await inShell(`temporal workflow describe --workflow-id ${workflowId} --output json`);
  expect(JSON.parse(described.stdout).workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
  const estimate = await inShell('node --import tsx src/client/cli.ts estimate --input samples/run-text.json');
  expect(estimate.stdout).toMatch(/300/);

  const children = descendants(demo.pid!);
  expect(children.join('\n')).toMatch(/ temporal\b/);
  expect(children.join('\n')).toMatch(/ (moto_server|python)/);
  demo.kill('SIGTERM');
  expect(await exited).toBe(143);
  expect(output).toContain('SIGTERM: stopping the local stack');
  // A child may take a moment to notice its parent is gone (tsx's esbuild service reads stdin).
  for (let i = 0; i < 30 && children.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  expect(children.filter(alive)).toEqual([]);
  expect(existsSync(envFile)).toBe(false);
}, 240_000);
