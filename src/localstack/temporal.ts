import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { findOnPath, isExecutable, repoRoot } from './bin';
import { track } from './children';
import { freePort, waitFor } from './ports';
import { BATCH_SEARCH_ATTRIBUTES } from '../shared/searchAttributes';

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface TemporalDevServerOptions {
  /** Frontend gRPC port; a free port by default. */
  port?: number;
  /** Web UI port; a free port by default; `false` runs the server headless. */
  uiPort?: number | false;
  /** SQLite file that keeps state across restarts; in-memory by default. */
  dbFilename?: string;
  /** Namespace to create at launch and to check for readiness; `default` by default. */
  namespace?: string;
  /**
   * Custom search attributes to register in `namespace` (also on an existing db file). By default
   * the ones batch runs upsert ({@link BATCH_SEARCH_ATTRIBUTES}): a run upserting one the namespace
   * lacks fails its workflow task, so every local stack has them unless told otherwise (`{}`).
   */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** `--dynamic-config-value KEY=JSON` pairs; values are JSON-encoded. */
  dynamicConfig?: Record<string, unknown>;
  /** Server log level: debug, info, warn (default), error, never. */
  logLevel?: string;
  /** Path of the temporal CLI; {@link findTemporalBinary} by default. */
  executable?: string;
  /** How long to wait for the frontend to serve; 60 s by default. */
  startTimeoutMs?: number;
}

export interface TemporalDevServer {
  /** `127.0.0.1:PORT`, for `Connection.connect({ address })` / TEMPORAL_ADDRESS. */
  address: string;
  port: number;
  /** Web UI base URL, unless started headless. */
  uiUrl?: string;
  namespace: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** proto `temporal.api.enums.v1.IndexedValueType` values. */
const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/**
 * Locates the temporal CLI: $TEMPORAL_CLI, then `<repo>/.local/bin/temporal` (where
 * scripts/setup.sh installs it), then PATH, then `$(go env GOPATH)/bin/temporal`.
 */
export function findTemporalBinary(): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file; unset it or run \`bash scripts/setup.sh\``);
  }
  const looked: string[] = [];
  const local = join(repoRoot(), '.local', 'bin', 'temporal');
  looked.push(local);
  if (isExecutable(local)) return local;
  looked.push('PATH');
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  const goBin = join(goPath(), 'bin', 'temporal');
  looked.push(goBin);
  if (isExecutable(goBin)) return goBin;
  throw new Error(
    `temporal CLI not found (looked at $TEMPORAL_CLI, ${looked.join(', ')}). ` +
      'Run `bash scripts/setup.sh` to install temporal CLI v1.5.1 into .local/bin, or set TEMPORAL_CLI.',
  );
}

function goPath(): string {
  const go = findOnPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (go) {
    try {
      const out = execFileSync(go, ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
      const first = out.trim().split(':')[0];
      if (first) return first;
    } catch {
      // fall through to Go's default
    }
  }
  return process.env.GOPATH?.split(':')[0] || join(homedir(), 'go');
}

function tcpOpen(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts `temporal server start-dev` on loopback (free ports by default) and resolves once the
 * frontend serves `namespace`. Search attributes missing from an existing `dbFilename` namespace
 * (where `--search-attribute` is a no-op) are registered through the operator service.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const executable = opts.executable ?? findTemporalBinary();
  const port = opts.port ?? (await freePort(HOST));
  const uiPort = opts.uiPort === false ? undefined : (opts.uiPort ?? (await freePort(HOST)));
  const namespace = opts.namespace ?? 'default';
  const searchAttributes = opts.searchAttributes ?? BATCH_SEARCH_ATTRIBUTES;
  const address = `${HOST}:${port}`;

  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port)];
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(searchAttributes)) {
    if (!(type in INDEXED_VALUE_TYPE)) throw new Error(`unknown search attribute type ${type} for ${name}`);
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  args.push('--log-level', opts.logLevel ?? 'warn');

  const child: ChildProcess = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  let exitCode: number | null = null;
  let exitSignal: NodeJS.Signals | null = null;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      resolve();
    });
    child.once('error', (err) => {
      // spawn failures (ENOENT, EACCES) may emit no 'exit'
      exited = true;
      spawnError = err;
      output += `\n${String(err)}`;
      resolve();
    });
  });
  const exitedError = () =>
    new Error(
      `temporal server ${spawnError ? `failed to start (${spawnError.message})` : `exited (code ${exitCode}, signal ${exitSignal})`} ` +
        `while starting: ${executable} ${args.join(' ')}`,
    );
  /** Rejects as soon as the server process dies; races every readiness wait. */
  const died = exitPromise.then(() => {
    throw exitedError();
  });
  died.catch(() => undefined);

  const stop = async (): Promise<void> => {
    if (exited || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let connection: Connection | undefined;
  try {
    const remaining = () => Math.max(1_000, deadline - Date.now());
    await Promise.race([died, waitFor(`temporal dev server on ${address}`, async () => exited || tcpOpen(port), timeoutMs)]);
    const connecting = Connection.connect({ address, connectTimeout: remaining() });
    // if the server dies first, close the connection once it settles
    connecting.then((c) => (exited ? c.close() : undefined), () => undefined);
    connection = await Promise.race([died, connecting]);
    const conn = connection;
    await Promise.race([
      died,
      waitFor(
        `temporal namespace ${namespace} on ${address}`,
        async () => {
          if (exited) return true; // `died` has already rejected the race
          await conn.workflowService.getSystemInfo({});
          await conn.workflowService.describeNamespace({ namespace });
          return true;
        },
        remaining(),
      ),
    ]);
    await Promise.race([died, ensureSearchAttributes(conn, namespace, searchAttributes, remaining(), () => exited)]);
  } catch (err) {
    await connection?.close().catch(() => undefined);
    child.kill('SIGKILL');
    await exitPromise;
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg}\n--- temporal server output (tail) ---\n${output}`);
  }
  await connection.close();

  return {
    address,
    port,
    uiUrl: uiPort === undefined ? undefined : `http://${HOST}:${uiPort}`,
    namespace,
    stop,
  };
}

/** Registers the search attributes that `namespace` lacks, then waits until they are listed. */
async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  wanted: Record<string, SearchAttributeTypeName>,
  timeoutMs: number,
  gaveUp: () => boolean,
): Promise<void> {
  if (Object.keys(wanted).length === 0) return;
  const missing = async (): Promise<Record<string, number>> => {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    const have = res.customAttributes ?? {};
    const out: Record<string, number> = {};
    for (const [name, type] of Object.entries(wanted)) {
      const existing = have[name];
      if (existing === undefined || existing === null) out[name] = INDEXED_VALUE_TYPE[type];
      else if (Number(existing) !== INDEXED_VALUE_TYPE[type]) {
        throw new Error(`search attribute ${name} exists in namespace ${namespace} with type ${existing}, not ${type}`);
      }
    }
    return out;
  };
  const toAdd = await missing();
  if (Object.keys(toAdd).length === 0) return;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: toAdd });
  await waitFor(
    `search attributes ${Object.keys(toAdd).join(', ')} in namespace ${namespace}`,
    async () => gaveUp() || Object.keys(await missing()).length === 0,
    timeoutMs,
  );
}
