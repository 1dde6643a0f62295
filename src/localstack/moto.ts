import { spawn, ChildProcess } from 'node:child_process';
import { findOnPath } from './bin';
import { track } from './children';
import { freePort, waitFor } from './ports';

/**
 * How to run moto's server: `executable` / $MOTO_SERVER if given, else `moto_server` from PATH,
 * else `python3 -m moto.server` (pyenv shims or pip's scripts dir may be missing from PATH in a
 * non-login shell; $MOTO_PYTHON or $PYTHON names the interpreter).
 */
export function motoServerCommand(executable?: string): { command: string; args: string[] } {
  const explicit = executable ?? process.env.MOTO_SERVER;
  if (explicit) return { command: explicit, args: [] };
  const onPath = findOnPath('moto_server');
  if (onPath) return { command: onPath, args: [] };
  const python = process.env.MOTO_PYTHON ?? process.env.PYTHON ?? findOnPath('python3') ?? 'python3';
  return { command: python, args: ['-m', 'moto.server'] };
}

export interface MotoServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts moto's S3-compatible server on loopback. moto keeps everything in memory,
 * so each server is a clean S3 account.
 */
export async function startMotoServer(opts: { port?: number; host?: string; executable?: string } = {}): Promise<MotoServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const { command, args } = motoServerCommand(opts.executable);
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
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
