export interface Faults {
  /** Every Nth record by input position across the job (1-based) gets an error line. */
  recordErrorEvery?: number;
  recordErrorIds?: string[];
  /** Jobs whose name contains any of these end Failed once InProgress has started. */
  failJobsNamed?: string[];
  /** The next N created jobs end Failed once InProgress has started. */
  failNextJobs?: number;
  /** The next N Create calls answer 429 ThrottlingException. */
  throttleNextCreates?: number;
  /** Every Create is answered only after this many ms (the job exists from then on): a slow service, so a client can be cancelled mid-create. */
  delayCreatesMs?: number;
  /** Create answers ValidationException "not authorized" (a new account's error) for names containing any of these. */
  rejectCreatesNamed?: string[];
  /** Jobs whose name contains any of these stop themselves, as if StopModelInvocationJob were called, once InProgress has processed about half their records: Stopping, then Stopped with partial outputs. */
  stopJobsNamed?: string[];
  /** Jobs whose name contains any of these never start: they stay Scheduled until their expiry, brought forward to when they would have started (whatever hourMs is), and end Expired with no outputs. */
  expireJobsNamed?: string[];
  /** Jobs whose name contains any of these end PartiallyCompleted with about half their records answered, as when a job reaches its timeout. */
  partialJobsNamed?: string[];
  /** Where stopJobsNamed and partialJobsNamed cut a job: after this percent of its records (default 50), so a test can leave a chosen remainder. */
  partialCutPercent?: number;
  /** Jobs whose name contains any of these are forgotten once created, as after a restart of the service: Get and Stop answer 404 ResourceNotFoundException, List omits them, they never run. */
  forgetJobsNamed?: string[];
  /** Entries `part=ms`: a job whose name contains `part` stays InProgress for `ms` instead of the emulator's inProgressMs (the first match wins): uneven job durations, as in a real run. */
  jobMsNamed?: string[];
  /** The next N InvokeModel/Converse calls answer 429 ThrottlingException. */
  throttleNextInvokes?: number;
  /** The next N InvokeModel/Converse calls are served; every later one answers 403 AccessDeniedException until faults change (a worker losing access mid-way). */
  denyInvokesAfter?: number;
  /** The next N job state-change events are not published (lost on the way from EventBridge to SQS). */
  dropNextEvents?: number;
  /** No job state-change event is published until faults change: a rule or queue misconfigured. */
  dropAllEvents?: boolean;
}

const NAME_LISTS = ['recordErrorIds', 'failJobsNamed', 'rejectCreatesNamed', 'stopJobsNamed', 'expireJobsNamed', 'partialJobsNamed', 'forgetJobsNamed', 'jobMsNamed'] as const;
const COUNTS = ['recordErrorEvery', 'failNextJobs', 'throttleNextCreates', 'delayCreatesMs', 'throttleNextInvokes', 'denyInvokesAfter', 'dropNextEvents', 'partialCutPercent'] as const;
const FLAGS = ['dropAllEvents'] as const;

/** Checks a Faults value that came over HTTP; throws naming the first field that is not what Faults declares. */
export function parseFaults(body: unknown): Faults {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('faults must be a JSON object');
  const faults: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    if ((NAME_LISTS as readonly string[]).includes(key)) {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${key} must be an array of strings`);
      if (key === 'jobMsNamed' && !value.every((v) => /^.+=\d+$/.test(v))) throw new Error('jobMsNamed entries must read part=ms');
    } else if ((COUNTS as readonly string[]).includes(key)) {
      if (!Number.isInteger(value) || (value as number) < 0) throw new Error(`${key} must be a non-negative integer`);
    } else if ((FLAGS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new Error(`${key} must be true or false`);
    } else {
      throw new Error(`unknown fault ${JSON.stringify(key)}; known: ${[...COUNTS, ...FLAGS, ...NAME_LISTS].join(', ')}`);
    }
    faults[key] = value;
  }
  return faults as Faults;
}

/** Holds the current faults; the counted ones are used up as they fire. */
export class FaultState {
  private faults: Faults = {};

  set(f: Faults): void {
    const copy: Faults = { ...f };
    for (const key of NAME_LISTS) if (f[key]) copy[key] = [...f[key]!];
    this.faults = copy;
  }

  /** The faults in force (counted ones as far as they are left). */
  get(): Faults {
    const copy: Faults = { ...this.faults };
    for (const key of NAME_LISTS) if (this.faults[key]) copy[key] = [...this.faults[key]!];
    for (const key of Object.keys(copy) as Array<keyof Faults>) if (copy[key] === undefined) delete copy[key];
    return copy;
  }

  createDelayMs(): number {
    return this.faults.delayCreatesMs ?? 0;
  }

  takeThrottle(): boolean {
    return this.take('throttleNextCreates');
  }

  takeFailNextJob(): boolean {
    return this.take('failNextJobs');
  }

  takeInvokeThrottle(): boolean {
    return this.take('throttleNextInvokes');
  }

  /** Counts one runtime call against denyInvokesAfter: true once the served calls are used up. */
  invokeDenied(): boolean {
    const left = this.faults.denyInvokesAfter;
    if (left === undefined) return false;
    if (left === 0) return true;
    this.faults.denyInvokesAfter = left - 1;
    return false;
  }

  /** True when this state-change event is to be lost (dropAllEvents, or one of dropNextEvents). */
  takeDroppedEvent(): boolean {
    return this.faults.dropAllEvents === true || this.take('dropNextEvents');
  }

  rejectsByName(jobName: string): boolean {
    return this.named('rejectCreatesNamed', jobName);
  }

  failsByName(jobName: string): boolean {
    return this.named('failJobsNamed', jobName);
  }

  stopsByName(jobName: string): boolean {
    return this.named('stopJobsNamed', jobName);
  }

  expiresByName(jobName: string): boolean {
    return this.named('expireJobsNamed', jobName);
  }

  partialByName(jobName: string): boolean {
    return this.named('partialJobsNamed', jobName);
  }

  /** The record position after which a stopJobsNamed/partialJobsNamed job is cut. */
  cutPosition(total: number): number {
    return Math.ceil((total * Math.min(100, this.faults.partialCutPercent ?? 50)) / 100);
  }

  /** How long this job stays InProgress when jobMsNamed names it; undefined otherwise. */
  jobMs(jobName: string): number | undefined {
    for (const entry of this.faults.jobMsNamed ?? []) {
      const at = entry.lastIndexOf('=');
      if (jobName.includes(entry.slice(0, at))) return Number(entry.slice(at + 1));
    }
    return undefined;
  }

  forgetsByName(jobName: string): boolean {
    return this.named('forgetJobsNamed', jobName);
  }

  /** The injected error message for a record, if a fault targets it. */
  recordError(position: number, recordId: string): string | undefined {
    const every = this.faults.recordErrorEvery;
    if (every && every > 0 && position % every === 0) return `Emulated record error (recordErrorEvery=${every}) for record ${recordId}`;
    if (this.faults.recordErrorIds?.includes(recordId)) return `Emulated record error (recordErrorIds) for record ${recordId}`;
    return undefined;
  }

  private named(key: 'failJobsNamed' | 'rejectCreatesNamed' | 'stopJobsNamed' | 'expireJobsNamed' | 'partialJobsNamed' | 'forgetJobsNamed', jobName: string): boolean {
    return (this.faults[key] ?? []).some((part) => jobName.includes(part));
  }

  private take(key: 'throttleNextCreates' | 'failNextJobs' | 'throttleNextInvokes' | 'dropNextEvents'): boolean {
    const n = this.faults[key] ?? 0;
    if (n <= 0) return false;
    this.faults[key] = n - 1;
    return true;
  }
}
