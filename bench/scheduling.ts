/**
 * Scheduling benchmark (issue 10, measure "Events"), on the local stack (Temporal dev server, moto
 * S3 + SQS, the Bedrock emulator publishing job state-change events, the job-events consumer beside
 * an in-process worker). Three runs of the same jobs, one after another:
 *   events      job events on, safety-net poll at its 900 s default
 *   dropped     job events on but every event lost (emulator fault dropAllEvents), poll every --poll s
 *   polling     no job events, poll every --poll s
 * Prints the job-end notice delay (emulator endTime → the shard's jobStateChanged signal, or the
 * completion of the poll that saw the end) with its target and met / not met, and Temporal actions
 * per job-hour with and without events: measured here, and projected for a 4-hour job at the
 * default intervals (poll 60 s without events, safety net 900 s with them).
 *
 *   npx tsx bench/scheduling.ts [--jobs 12] [--at-once 6] [--poll 5]
 */
import { startBatchRun } from '../src/client/api';
import { JOB_EVENTS_POLL_SECONDS } from '../src/core/runConfig';
import { JOB_SLOTS_WORKFLOW, type JobSlotsInput, jobSlotsWorkflowId } from '../src/shared/jobSlots';
import { TASK_QUEUE } from '../src/shared/types';
import { loadRunDefaults } from '../src/config';
import { sampleRows, uploadCsv } from '../test/support/data';
import { startTestJobEventsConsumer } from '../test/support/jobEventsConsumer';
import { REGION, startLocalStack } from '../test/support/localStack';
import { CLAUDE_HAIKU, textRun } from '../test/support/runs';
import {
  type ActionCounts,
  type HistoryEvent,
  addActions,
  checkAttempts,
  eventMs,
  historyActions,
  historyChain,
  historyOf,
  jobNotice,
  percentile,
  totalActions,
} from '../test/support/schedulingMeasures';
import { startWorker } from '../test/support/worker';
import { numberArg } from './args';

const NOTICE_TARGET_MS = 2000;
/** The fallback is met when the notice comes within the poll interval; this much more allows for dispatching the attempt. */
const FALLBACK_MARGIN_MS = 1000;
const PROJECTED_JOB_HOURS = 4;
const HOUR_MS = 3_600_000;

type Mode = 'events' | 'dropped' | 'polling';

interface PhaseResult {
  mode: Mode;
  pollSeconds: number;
  jobs: number;
  jobHours: number;
  /** Job end → the shard heard of it (signal) or saw it (poll), ms, one per job. */
  notice: number[];
  /** Job end → the waitForJob that returned the end completed, ms. */
  confirmed: number[];
  actions: ActionCounts;
  /** Poll attempts as histories show them (a lower bound: see historyActions). */
  historyPolls: number;
  /** The quota workflow's holder checks in the run's time (a timer and a closedSlotHolders attempt each). */
  holderChecks: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  const jobs = numberArg('jobs', 12);
  const atOnce = numberArg('at-once', 6);
  const poll = numberArg('poll', 5);
  const defaults = loadRunDefaults();
  const checkSeconds = defaults.jobSlotsCheckSeconds ?? 60;
  const stack = await startLocalStack({ jobEvents: true, inProgressMs: 1500 });
  const worker = await startWorker(stack);
  const consumer = startTestJobEventsConsumer(stack, worker.client);
  const slotsId = jobSlotsWorkflowId('123456789012', REGION, CLAUDE_HAIKU);
  try {
    Object.assign(process.env, stack.env);
    // Started here as a run's first shard would start it (config's limit and check interval), so no phase pays for its start.
    const slots: JobSlotsInput = { account: '123456789012', region: REGION, modelId: CLAUDE_HAIKU, limit: defaults.jobSlotsPerModel ?? 20, checkSeconds };
    await worker.client.workflow.start(JOB_SLOTS_WORKFLOW, { workflowId: slotsId, taskQueue: TASK_QUEUE, args: [slots] });
    // InProgress 4–10 s by shard: ends spread over the run.
    const jobMsNamed = Array.from({ length: jobs }, (_, i) => `-s${String(i).padStart(5, '0')}-a1=${4000 + ((i * 7) % 13) * 500}`);

    const results: PhaseResult[] = [];
    for (const mode of ['events', 'dropped', 'polling'] as const) {
      const name = `sched-${mode}`;
      await uploadCsv(stack.s3, `s3://datasets/${name}.csv`, sampleRows(jobs * 100));
      stack.emulator.setFaults({ jobMsNamed, ...(mode === 'dropped' ? { dropAllEvents: true } : {}) });
      stack.emulator.resetStats();
      const pollSeconds = mode === 'events' ? JOB_EVENTS_POLL_SECONDS : poll;
      const input = textRun(name, { maxRecordsPerJob: 100, maxConcurrentJobs: atOnce, jobEvents: mode !== 'polling', pollIntervalSeconds: mode === 'events' ? undefined : poll });
      const summary = await (await startBatchRun(worker.client, input, { workflowId: name })).result();
      if (summary.outcome !== 'complete') throw new Error(`${name} ended ${summary.outcome}`);

      const emulatorJobs = stack.emulator.stats().jobs.filter((j) => j.jobName.startsWith(`${name}-`));
      const runEvents = (await historyChain(worker.client, name)).flat();
      const window = { fromMs: eventMs(runEvents[0]), toMs: eventMs(runEvents[runEvents.length - 1]) };
      let actions = historyActions(runEvents);
      let checks = 0;
      const notice: number[] = [];
      const confirmed: number[] = [];
      for (const j of emulatorJobs) {
        const shard = Number(/-s(\d{5})-a\d+$/.exec(j.jobName)![1]);
        const events = await historyOf(worker.client, `${name}/shard-${shard}`);
        actions = addActions(actions, historyActions(events));
        checks += checkAttempts(events);
        const n = jobNotice(events, j.endMs!);
        notice.push((mode === 'events' ? n.signalMs! : n.confirmedMs) - n.endMs);
        confirmed.push(n.confirmedMs - n.endMs);
      }
      const quota = (await historyChain(worker.client, slotsId)).flat();
      const quotaActions = historyActions(quota, window);
      actions = addActions(actions, quotaActions);
      const historyPolls = actions.pollAttempts;
      // One Get per waitForJob attempt: the polls made as many Gets as Bedrock counted, less the checks'.
      actions.pollAttempts = emulatorJobs.reduce((n, j) => n + j.getRequests, 0) - checks;
      results.push({
        mode,
        pollSeconds,
        jobs: emulatorJobs.length,
        jobHours: emulatorJobs.reduce((h, j) => h + (j.endMs! - j.submitMs) / HOUR_MS, 0),
        notice,
        confirmed,
        actions,
        historyPolls,
        holderChecks: holderCheckActions(quota, window),
      });
    }
    report(results, { jobs, atOnce, poll, checkSeconds, defaultPoll: defaults.pollIntervalSeconds ?? 60 });
  } finally {
    await consumer.stop();
    await worker.stop();
    await stack.stop();
  }
}

/** The quota workflow's holder checks within the window: the timer between checks and each closedSlotHolders attempt. */
function holderCheckActions(events: HistoryEvent[], window: { fromMs: number; toMs: number }): number {
  const inWindow = events.filter((e) => eventMs(e) >= window.fromMs && eventMs(e) <= window.toMs);
  const timers = inWindow.filter((e) => e.timerStartedEventAttributes).length;
  const checks = inWindow.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'closedSlotHolders');
  const attempts = new Map(events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => [Number(e.activityTaskStartedEventAttributes!.scheduledEventId), e.activityTaskStartedEventAttributes!.attempt ?? 1]));
  return timers + checks.reduce((n, e) => n + (attempts.get(Number(e.eventId)) ?? 1), 0);
}

function report(results: PhaseResult[], o: { jobs: number; atOnce: number; poll: number; checkSeconds: number; defaultPoll: number }): void {
  const by = (mode: Mode) => results.find((r) => r.mode === mode)!;
  const [events, dropped, polling] = [by('events'), by('dropped'), by('polling')];
  console.log(`scheduling benchmark (issue 10): ${o.jobs} jobs a run, ${o.atOnce} at once, InProgress 4–10 s; local stack, in-process worker + job-events consumer`);
  console.log('');
  console.log('job end noticed (emulator endTime → shard history)');
  const maxOf = (v: number[]) => Math.max(...v);
  console.log(
    `  events on (safety net ${events.pollSeconds} s)   signal p50 ${seconds(percentile(events.notice, 50))}, max ${seconds(maxOf(events.notice))} (target ≤ ${seconds(NOTICE_TARGET_MS)}): ${met(maxOf(events.notice) <= NOTICE_TARGET_MS)}; ` +
      `confirmed by Get p50 ${seconds(percentile(events.confirmed, 50))}, max ${seconds(maxOf(events.confirmed))}`,
  );
  const fallback = dropped.pollSeconds * 1000;
  console.log(
    `  events dropped (poll ${dropped.pollSeconds} s)      poll p50 ${seconds(percentile(dropped.notice, 50))}, max ${seconds(maxOf(dropped.notice))} (target ≤ the ${dropped.pollSeconds} s interval, +${seconds(FALLBACK_MARGIN_MS)} to dispatch): ${met(maxOf(dropped.notice) <= fallback + FALLBACK_MARGIN_MS)}`,
  );
  console.log(`  no events (poll ${polling.pollSeconds} s)           poll p50 ${seconds(percentile(polling.notice, 50))}, max ${seconds(maxOf(polling.notice))}`);
  console.log('');
  console.log('Temporal actions (Temporal Cloud billing: https://docs.temporal.io/cloud/actions), counted from the run, shard and quota workflow histories;');
  console.log("poll attempts from the emulator's Get count (one Get per attempt; history keeps only a retried activity's last attempt)");
  console.log('  run                          jobs  job-hours  actions  polls (history≥)  per job  per job-hour');
  for (const r of results) {
    const total = totalActions(r.actions);
    const label = r.mode === 'events' ? `with events (net ${r.pollSeconds} s)` : r.mode === 'dropped' ? `events dropped (poll ${r.pollSeconds} s)` : `without events (poll ${r.pollSeconds} s)`;
    console.log(
      `  ${label.padEnd(29)}${String(r.jobs).padStart(4)}  ${r.jobHours.toFixed(4).padStart(9)}  ${String(total).padStart(7)}  ${`${r.actions.pollAttempts} (${r.historyPolls})`.padStart(16)}  ${(total / r.jobs).toFixed(1).padStart(7)}  ${Math.round(total / r.jobHours).toLocaleString('en-US').padStart(11)}`,
    );
  }
  const breakdown = (r: PhaseResult) =>
    Object.entries(r.actions)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  console.log(`  with events: ${breakdown(events)}`);
  console.log(`  without events: ${breakdown(polling)}`);
  console.log('');

  // Projection: the actions a job costs apart from its polls and the shared holder checks, plus the polls a 4-hour job makes.
  const fixed = (r: PhaseResult) => (totalActions(r.actions) - r.actions.pollAttempts - r.holderChecks) / r.jobs;
  const T = PROJECTED_JOB_HOURS * 3600;
  // Without events the poll attempts at 0, P, 2P, … until one finds the job ended; with events the attempts before the end, then the event.
  const pollsWithout = Math.ceil(T / o.defaultPoll) + 1;
  const pollsWith = Math.ceil(T / JOB_EVENTS_POLL_SECONDS);
  const without = fixed(polling) + pollsWithout;
  const withEvents = fixed(events) + pollsWith;
  console.log(`projection: one ${PROJECTED_JOB_HOURS}-hour job at the default intervals (per-job actions other than polls as measured above)`);
  console.log(
    `  without events (poll ${o.defaultPoll} s):        ${fixed(polling).toFixed(1)} + ${pollsWithout} polls = ${without.toFixed(0)} actions a job, ${(without / PROJECTED_JOB_HOURS).toFixed(1)} per job-hour`,
  );
  console.log(
    `  with events (safety net ${JOB_EVENTS_POLL_SECONDS} s):  ${fixed(events).toFixed(1)} + ${pollsWith} polls = ${withEvents.toFixed(0)} actions a job, ${(withEvents / PROJECTED_JOB_HOURS).toFixed(1)} per job-hour (${(without / withEvents).toFixed(1)}× fewer)`,
  );
  const perHour = 2 * Math.ceil(3600 / o.checkSeconds);
  console.log(
    `  both add the quota workflow's holder check while any slot is held: ${perHour} actions a wall-clock hour (timer + closedSlotHolders every ${o.checkSeconds} s), shared: ${(perHour / 20).toFixed(1)} per job-hour with 20 jobs at once`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
