import { defineQuery } from '@temporalio/workflow';
import type { BatchRunProgress } from './types';

/** Defined once, used by the workflow and by every client. */
export const progressQuery = defineQuery<BatchRunProgress>('progress');
