import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { openObjectStream } from '../../src/io/s3';
import type { BatchRunProgress } from '../../src/shared/types';

/** Copies the run's Parquet files out of the (in-memory) moto S3 so they outlive the demo. */
export async function copyOutputLocally(s3: S3Client, uris: readonly string[], dir: string): Promise<string[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const uri of uris) {
    const file = join(dir, basename(uri));
    const { body } = await openObjectStream(s3, uri);
    await pipeline(body, createWriteStream(file));
    files.push(file);
  }
  return files;
}

/** One shell line reading the folder with pyarrow (installed by scripts/setup.sh, maybe in .local/venv). */
export function readerCommand(dir: string, repoRoot: string): string {
  const venv = join(repoRoot, '.local/venv/bin/python3');
  const python = existsSync(venv) ? venv : 'python3';
  return `${python} -c "import pyarrow.parquet as pq; t = pq.read_table('${dir}'); print(t.num_rows, 'rows'); print(t.slice(0, 3).to_pylist())"`;
}

/** Shell-quoted `export` lines; single quotes so no value is expanded when sourced. */
export function writeStackEnv(file: string, vars: Record<string, string>, binDir: string): void {
  const lines = [
    '# Written by `npm run demo -- --keep` for the stack it keeps running; removed when the demo stops.',
    '# `source` it, then the README commands (npm run cli -- …, temporal …) reach that stack as they are.',
    ...Object.entries(vars).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`),
    `export PATH='${binDir}':"$PATH"`,
    '',
  ];
  writeFileSync(file, lines.join('\n'));
}

const PHASES: BatchRunProgress['phase'][] = ['resolving', 'preparing', 'running', 'finalizing', 'done'];

/**
 * The demo's progress: one line per change, preprocessing included. A small sample resolves and
 * prepares in under a second, faster than any poll, so a phase passed between two polls still
 * gets its line, from what the progress keeps afterwards (parts, rows, shards).
 */
export function progressPrinter(): (p: BatchRunProgress) => string[] {
  let phaseIndex = -1;
  let last = '';
  return (p) => {
    const now = PHASES.indexOf(p.phase);
    const lines: string[] = [];
    for (let i = phaseIndex + 1; i < now; i++) lines.push(finishedLine(PHASES[i], p));
    const line = phaseLine(p);
    if (line !== last) lines.push(line);
    phaseIndex = Math.max(phaseIndex, now);
    last = line;
    return lines;
  };
}

function finishedLine(phase: BatchRunProgress['phase'], p: BatchRunProgress): string {
  if (phase === 'resolving') return 'resolving: input, model and template checked';
  if (phase === 'preparing') return `preparing: ${p.partsTotal ?? '?'} part(s) written, ${p.rowCount ?? '?'} rows into ${p.shardCount ?? '?'} shards`;
  if (phase === 'running') return `running: shards ${p.shardCount ?? '?'}/${p.shardCount ?? '?'} done`;
  return `${phase}: done`;
}

function phaseLine(p: BatchRunProgress): string {
  switch (p.phase) {
    case 'resolving':
      return 'resolving: checking the input, the model and the template';
    case 'preparing':
      return p.partsTotal === undefined ? 'preparing: counting rows, planning shards and parts' : `preparing: parts ${p.partsDone ?? 0}/${p.partsTotal} written`;
    case 'running':
      return `running: shards ${p.totals.shardsDone}/${p.shardCount ?? '?'} done, ${p.shardsRunning} running, rows ${p.totals.rows}/${p.rowCount ?? '?'}`;
    case 'finalizing':
      return `finalizing: writing the manifest and summary (${p.totals.rows} rows)`;
    default:
      return `done: ${p.totals.rows} rows`;
  }
}
