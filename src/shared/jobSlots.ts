/**
 * Messages of the job-slot (quota) workflow: one per (account, Region, model), shared by every
 * run. Defined once here for the workflows, the activities and the CLI.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SlotAnswer, SlotHolder, SlotLedger } from '../core/jobSlotLedger';

export const JOB_SLOTS_WORKFLOW = 'jobSlots';

export interface JobSlotsInput {
  account: string;
  region: string;
  modelId: string;
  /** Slots at start (from config); changed live with `setLimit`. */
  limit: number;
  /** How often the holders' workflows are checked, so a holder that closed without releasing gives its slot back. */
  checkSeconds: number;
  /** The ledger carried over continue-as-new. */
  carried?: SlotLedger;
}

export type SlotRequest = Omit<SlotHolder, 'since'>;
export type SlotRelease = Pick<SlotHolder, 'workflowId' | 'runId' | 'ticket'>;
export type { SlotAnswer, SlotHolder, SlotLedger };

export interface SlotsView extends SlotLedger {
  account: string;
  region: string;
  modelId: string;
  checkSeconds: number;
}

/** Asks for a slot: answers at once (queued, or granted) and sends `jobSlotGranted` when granted. */
export const requestSlotUpdate = defineUpdate<SlotAnswer, [SlotRequest]>('requestSlot');
/** Gives a slot back, or leaves the queue. A signal: the releasing workflow may be closing and cannot wait. */
export const releaseSlotSignal = defineSignal<[SlotRelease]>('releaseSlot');
export const setLimitUpdate = defineUpdate<SlotsView, [number]>('setLimit');
export const slotsQuery = defineQuery<SlotsView>('slots');
/** Sent by the quota workflow to the shard workflow it granted a slot. */
export const slotGrantedSignal = defineSignal<[{ ticket: number }]>('jobSlotGranted');

export const MAX_SLOT_LIMIT = 1000;

/** Deterministic, so every run's shards find the same quota workflow. */
export function jobSlotsWorkflowId(account: string, region: string, modelId: string): string {
  return `job-slots/${account}/${region}/${modelId}`;
}

/** The account of a role ARN (`arn:aws:iam::123456789012:role/…`); `default` when the ARN carries none. */
export function accountOfRole(roleArn: string): string {
  return /^arn:[^:]+:iam::([0-9]{12}):/.exec(roleArn)?.[1] ?? 'default';
}

/** The limit for a model: a per-model entry of the config, else the config's default, else Bedrock's default quota. */
export function slotLimitFor(config: { jobSlotsPerModel?: number; jobSlotsByModel?: Record<string, number> }, modelId: string): number {
  return config.jobSlotsByModel?.[modelId] ?? config.jobSlotsPerModel ?? 20;
}
