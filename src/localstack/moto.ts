import { spawn, ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { findOnPath, isExecutable, repoRoot } from './bin';
import { track } from './children';
import { freePort, waitFor } from './ports';

/**
 * How to run moto's server: `executable` / $MOTO_SERVER if given, else `moto_server` from PATH,
 * else `python3 -m moto.server` (pyenv shims or pip's scripts dir may be missing from PATH in a
 * non-login shell; $MOTO_PYTHON or $PYTHON names the interpreter).
 *
 * `ranged` (unless an `executable` is given): moto through scripts/moto_ranged.py, which sends
 * GetObject bodies from the object's file, reading only the range asked for, instead of copying
 * the whole object on every GET. Its interpreter is the one beside moto_server (a venv's or
 * pyenv's bin dir holds both), else $MOTO_PYTHON / $PYTHON / python3.
 */
export function motoServerCommand(executable?: string, ranged = false): { command: string; args: string[] } {
  const explicit = executable ?? process.env.MOTO_SERVER;
  const onPath = explicit ? undefined : findOnPath('moto_server');
  const fallbackPython = process.env.MOTO_PYTHON ?? process.env.PYTHON ?? findOnPath('python3') ?? 'python3';
  if (ranged && !executable) {
    const script = explicit ?? onPath;
    const beside = script ? join(dirname(script), 'python3') : undefined;
    const python = beside && isExecutable(beside) ? beside : fallbackPython;
    return { command: python, args: [join(repoRoot(), 'scripts', 'moto_ranged.py')] };
  }
  if (explicit) return { command: explicit, args: [] };
  if (onPath) return { command: onPath, args: [] };
  return { command: fallbackPython, args: ['-m', 'moto.server'] };
}

/**
 * Whether startMotoServer runs the ranged moto when not told: yes, unless $MOTO_RANGED=0/false.
 * The tests, the demo and the benchmark use it (the whole suite passed on it, 2026-12-02);
 * test/localstack/motoRanged.test.ts checks its S3 semantics against the real SDK.
 */
export function motoRangedByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(0|false|no)$/i.test(env.MOTO_RANGED ?? '');
}

export interface MotoServer {
  endpoint: string;
  port: number;
  /** The server process (for CPU and RSS readings from /proc). */
  pid?: number;
  /** Whether it is the ranged moto (scripts/moto_ranged.py). */
  ranged: boolean;
  stop(): Promise<void>;
}

/**
 * Starts moto's S3-compatible server on loopback. moto keeps everything in memory (objects over
 * ~5 MB in temporary files), so each server is a clean S3 account. `ranged` (default: see
 * motoRangedByDefault) runs it through scripts/moto_ranged.py; an `executable` runs as given.
 */
export async function startMotoServer(opts: { port?: number; host?: string; executable?: string; ranged?: boolean } = {}): Promise<MotoServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const ranged = !opts.executable && (opts.ranged ?? motoRangedByDefault());
  const { command, args } = motoServerCommand(opts.executable, ranged);
  const child: ChildProcess = spawn(command, [...args, '-H', host, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.on('error', (err) => {
    exited = true;
    stderr += String(err);
  });
  const endpoint = `http://${host}:${port}`;
  try {
    await waitFor(
      'moto server',
      async () => {
        // waitFor retries on a thrown error, so stop probing here and fail below
        if (exited) return true;
        const res = await fetch(`${endpoint}/moto-api/`);
        return res.ok;
      },
      60_000,
    );
    if (exited) throw new Error(`moto server (${[command, ...args].join(' ')}) exited while starting: ${stderr}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint,
    port,
    pid: child.pid,
    ranged,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
