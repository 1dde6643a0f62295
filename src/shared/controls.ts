import type { RunControlsState, RunSettings, SettingChange } from './types';

/*
 * The live settings of a run as plain data, and the checks and changes the run's updates make on
 * them. Pure (no Temporal, no Node APIs): the workflow, the CLI and unit tests share it.
 */

/** The most maxConcurrentJobs a run input may ask for (src/core/runConfig.ts); an update may not go past it either. */
export const MAX_CONCURRENT_JOBS = 1000;
/** Changes kept in the state; older ones are only counted, so a page's continuation stays small however often settings change. */
export const CHANGES_KEPT = 20;
/** Longest `by` or reason: every page's continuation carries the kept changes. */
export const MAX_TEXT = 200;

export function initialControls(run: { maxConcurrentJobs: number; budgetUsd?: number }): RunControlsState {
  return { settings: { maxConcurrentJobs: run.maxConcurrentJobs, paused: false, budgetUsd: run.budgetUsd ?? null }, changes: [], changeCount: 0 };
}

const shown = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

export function checkMaxConcurrentJobs(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_CONCURRENT_JOBS) return undefined;
  return `maxConcurrentJobs must be a whole number from 1 to ${MAX_CONCURRENT_JOBS}, got ${shown(value)}`;
}

export function checkBudget(value: unknown): string | undefined {
  if (value === null || (typeof value === 'number' && Number.isFinite(value) && value > 0)) return undefined;
  return `budgetUsd must be a positive number of US dollars, or null to lift the budget, got ${shown(value)}`;
}

/** `by` and reasons: optional short text. */
export function checkText(name: 'by' | 'reason', value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length <= MAX_TEXT) return undefined;
  return `${name} must be text of at most ${MAX_TEXT} characters, got ${typeof value === 'string' ? `${value.length} characters` : shown(value)}`;
}

export const who = (by: string | undefined | null): string => (by ? by : 'unknown');

/** Records a change (only when the value changes) and returns the settings after it. */
function record(state: RunControlsState, change: SettingChange): RunSettings {
  if (change.from !== change.to) {
    state.changes.push(change);
    if (state.changes.length > CHANGES_KEPT) state.changes.splice(0, state.changes.length - CHANGES_KEPT);
    state.changeCount += 1;
  }
  return { ...state.settings };
}

export function applyMaxConcurrentJobs(state: RunControlsState, to: number, by: string, at: string): RunSettings {
  const from = state.settings.maxConcurrentJobs;
  state.settings.maxConcurrentJobs = to;
  return record(state, { setting: 'maxConcurrentJobs', from, to, by, at });
}

export function applyPaused(state: RunControlsState, to: boolean, reason: string | undefined, by: string, at: string): RunSettings {
  const from = state.settings.paused;
  state.settings.paused = to;
  if (to && reason) state.settings.pauseReason = reason;
  else if (!to) delete state.settings.pauseReason;
  return record(state, { setting: 'paused', from, to, by, at, ...(reason ? { reason } : {}) });
}

export function applyBudget(state: RunControlsState, to: number | null, by: string, at: string): RunSettings {
  const from = state.settings.budgetUsd;
  state.settings.budgetUsd = to;
  return record(state, { setting: 'budgetUsd', from, to, by, at });
}

/** The last change of `setting`, if any was kept. */
export function lastChange(state: RunControlsState, setting: SettingChange['setting']): SettingChange | undefined {
  return [...state.changes].reverse().find((c) => c.setting === setting);
}

const value = (setting: SettingChange['setting'], v: SettingChange['from']) =>
  setting === 'budgetUsd' ? (v === null ? 'none' : `USD ${v}`) : setting === 'paused' ? (v ? 'paused' : 'submitting') : String(v);

/** "maxConcurrentJobs 1 → 3 by alice@laptop at 2025-…". */
export function changeLine(c: SettingChange): string {
  return `${c.setting} ${value(c.setting, c.from)} → ${value(c.setting, c.to)} by ${c.by} at ${c.at}${c.reason ? ` (${c.reason})` : ''}`;
}

/** "3 jobs at once · paused (maintenance) · budget USD 5". */
export function settingsLine(s: RunSettings): string {
  const submission = s.paused ? `paused${s.pauseReason ? ` (${s.pauseReason})` : ''}` : 'submitting';
  return `${s.maxConcurrentJobs} jobs at once · ${submission} · budget ${s.budgetUsd === null ? 'none' : `USD ${s.budgetUsd}`}`;
}

/** Rows for a details table: the settings, then the last few changes, newest first. */
export function controlRows(state: RunControlsState, last = 3): Array<[string, string]> {
  const rows: Array<[string, string]> = [['settings', settingsLine(state.settings)]];
  const recent = state.changes.slice(-last).reverse();
  if (recent.length) rows.push(['changes', `${state.changeCount} in all; ${recent.map(changeLine).join('; ')}`]);
  return rows;
}
