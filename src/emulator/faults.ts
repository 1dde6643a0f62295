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
  /** Create answers ValidationException "not authorized" (a new account's error) for names containing any of these. */
  rejectCreatesNamed?: string[];
}

/** Holds the current faults; the counted ones are used up as they fire. */
export class FaultState {
  private faults: Faults = {};

  set(f: Faults): void {
    this.faults = { ...f, recordErrorIds: f.recordErrorIds ? [...f.recordErrorIds] : undefined };
  }

  takeThrottle(): boolean {
    return this.take('throttleNextCreates');
  }

  takeFailNextJob(): boolean {
    return this.take('failNextJobs');
  }

  rejectsByName(jobName: string): boolean {
    return (this.faults.rejectCreatesNamed ?? []).some((part) => jobName.includes(part));
  }

  failsByName(jobName: string): boolean {
    return (this.faults.failJobsNamed ?? []).some((part) => jobName.includes(part));
  }

  /** The injected error message for a record, if a fault targets it. */
  recordError(position: number, recordId: string): string | undefined {
    const every = this.faults.recordErrorEvery;
    if (every && every > 0 && position % every === 0) return `Emulated record error (recordErrorEvery=${every}) for record ${recordId}`;
    if (this.faults.recordErrorIds?.includes(recordId)) return `Emulated record error (recordErrorIds) for record ${recordId}`;
    return undefined;
  }

  private take(key: 'throttleNextCreates' | 'failNextJobs'): boolean {
    const n = this.faults[key] ?? 0;
    if (n <= 0) return false;
    this.faults[key] = n - 1;
    return true;
  }
}
