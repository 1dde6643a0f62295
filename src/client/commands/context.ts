import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config';

/** Options any command may take; parsed once by the dispatcher. */
export interface CliOptions {
  input?: string;
  'workflow-id'?: string;
  wait?: boolean;
  'dry-run'?: boolean;
  'exact-tokens'?: boolean;
  'accept-errors'?: boolean;
  yes?: boolean;
  all?: boolean;
  json?: boolean;
  phase?: string;
  outcome?: string;
  model?: string;
  since?: string;
  status?: string;
  limit?: string;
  row?: string;
  interval?: string;
  'max-job-attempts'?: string;
  /** pause / resume: why, for the run's change log. */
  reason?: string;
}

/** What a command gets: its arguments, where to print, the configuration, and Temporal on demand. */
export interface CliContext {
  positionals: string[];
  options: CliOptions;
  out: (line: string) => void;
  config(): AppConfig;
  /** Connects on first use (commands like `templates` never do); the dispatcher closes it. */
  client(): Promise<Client>;
  /** Set when output goes to a terminal that `watch` may redraw. */
  terminal?: { write(text: string): void };
}

/** A positive integer option, or the default; names the option when it is not one. */
export function intOption(ctx: CliContext, name: 'limit' | 'row' | 'interval' | 'max-job-attempts', fallback: number, min = 1): number {
  const raw = ctx.options[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} takes a whole number ≥ ${min}, not "${raw}"`);
  return n;
}

export function needWorkflowId(ctx: CliContext, command: string): string {
  const id = ctx.positionals[0];
  if (!id) throw new Error(`${command} needs a workflow id`);
  return id;
}
