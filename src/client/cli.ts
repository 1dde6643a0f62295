import { parseArgs } from 'node:util';
import { type AppConfig, loadAppConfig } from '../config';
import { rootMessage } from '../shared/errors';
import type { CliContext, CliOptions } from './commands/context';
import { budget, pause, resume, scale } from './commands/controls';
import { lineage } from './commands/lineage';
import { list } from './commands/list';
import { cleanup, replay } from './commands/maintenance';
import { rerun } from './commands/rerun';
import { slots } from './commands/slots';
import { cancel, estimate, result, start } from './commands/run';
import { status } from './commands/status';
import { templates } from './commands/templates';
import { watch } from './commands/watch';
import { type TemporalSession, connectTemporal } from './connect';
import { EXIT, causeChain } from './runResult';

export const USAGE = `usage: batch <command> [options]     (from the repo: npm run cli -- <command>, or npx batch <command>)

Runs
  start    --input <run.json | JSON> [--workflow-id ID] [--wait [--accept-errors]] [--dry-run]
                                                  start a run (--dry-run: estimate only)
  estimate --input <run.json | JSON> [--exact-tokens]   records, jobs, tokens and cost; submits nothing
  status   <id> [--json]                          phase, parts, shards, rows, tokens, cost against the estimate, ETA;
                                                  or the summary / root cause of an ended run
  watch    <id> [--interval SECONDS]              live progress until the run ends; exits with the run's code
  result   <id> [--accept-errors]                 wait for the run and print its summary
  cancel   <id>                                   cancel a run (its Bedrock jobs are stopped)
  scale    <id> <n>                               at most n jobs at once from the next shard start
  pause    <id> [--reason TEXT]                   start no new shard (running ones go on); resume <id> [--reason TEXT]
  budget   <id> <usd|none>                        the budget the next submits must fit in; none lifts it
                                                  (these print the run's settings; a refused value exits 1)
  rerun    <id> [--workflow-id ID] [--max-job-attempts N] [--wait [--accept-errors]]
                                                  the same input again as <id>-rerun-<n>: reuses every job of the
                                                  earlier run, pays only for rows without an answer
  list     [--status S] [--phase P] [--outcome O] [--model M] [--since 7d|DATE] [--limit N] [--json]
                                                  batch runs, newest first (e.g. --status Failed --model M --since 7d)
  slots    [<model> | <job-slots id>] [--limit N] [--json]
                                                  the job-slot budget shared by all runs of a model (per account and
                                                  Region): limit, holders, waiters; --limit sets it live
Records and prompts
  lineage  <id> <recordId> [--json]               shard, job ARNs, attempt, output file and status of one record
  templates list | show <promptId> | preview [<promptId>] --input <file.csv|file.parquet|s3://…|run.json> [--row N] [--model M]
                                                  the rendered prompt (and request body) of row N; submits nothing
Files and code
  cleanup  <id> [--dry-run] [--yes] [--all]       list a run's files per prefix; --yes deletes its staging files
                                                  (and a failed or cancelled run's partial output), --all a completed
                                                  run's output and summary too
  replay   <history.json>... [--workflow-id ID]   replay histories ("temporal workflow show --output json")
                                                  against this code; fails on nondeterminism

Exit codes (start --wait, result, watch, rerun --wait): 0 complete, 2 complete with record errors (0 with
--accept-errors), 3 incomplete (rows without an answer), 4 failed, 5 cancelled, 1 bad usage or a CLI error.

Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE;
estimate, lineage, cleanup and templates preview read S3 themselves: AWS_REGION, AWS_ENDPOINT_URL_S3 and
the AWS credential chain.`;

const COMMANDS: Record<string, (ctx: CliContext) => Promise<number>> = {
  start,
  estimate: (ctx) => estimate(ctx),
  status,
  watch,
  result,
  cancel,
  scale,
  pause,
  resume,
  budget,
  rerun,
  list,
  lineage,
  templates,
  cleanup,
  replay,
  slots,
};

const OPTIONS = {
  input: { type: 'string' },
  'workflow-id': { type: 'string' },
  wait: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'exact-tokens': { type: 'boolean' },
  'accept-errors': { type: 'boolean' },
  yes: { type: 'boolean' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  phase: { type: 'string' },
  outcome: { type: 'string' },
  model: { type: 'string' },
  since: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  row: { type: 'string' },
  interval: { type: 'string' },
  'max-job-attempts': { type: 'string' },
  reason: { type: 'string' },
} as const;

/**
 * Runs one CLI command; resolves to the process exit code (see USAGE). Bad usage rejects, naming
 * what is wrong. `terminal`: where `watch` redraws, when output is a terminal.
 */
export async function runCli(argv: string[], out: (line: string) => void = console.log, terminal?: CliContext['terminal']): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return EXIT.complete;
  }
  const run = COMMANDS[command];
  if (!run) throw new Error(`unknown command "${command}"\n${USAGE}`);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  let config: AppConfig | undefined;
  let session: Promise<TemporalSession> | undefined;
  const ctx: CliContext = {
    positionals,
    options: values as CliOptions,
    out,
    terminal,
    config: () => (config ??= loadAppConfig()),
    client: async () => {
      session ??= connectTemporal(ctx.config());
      return (await session).client;
    },
  };
  try {
    return await run(ctx);
  } finally {
    if (session) await (await session.catch(() => undefined))?.close();
  }
}

/** The process entry (bin/batch.js, npm run cli): prints a failure root cause first, then its chain. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const terminal = process.stdout.isTTY ? { write: (text: string) => void process.stdout.write(text) } : undefined;
  try {
    process.exitCode = await runCli(argv, console.log, terminal);
  } catch (err) {
    const root = rootMessage(err);
    const chain = causeChain(err);
    console.error(`error: ${root}`);
    if (chain !== root) console.error(`  cause chain: ${chain}`);
    process.exitCode = EXIT.usage;
  }
}

if (require.main === module) void main();
