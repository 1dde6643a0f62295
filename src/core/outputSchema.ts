import { Field, Float32, Int32, List, Schema, Utf8 } from 'apache-arrow';
import { Task } from '../models/types';

export const RECORD_ID = 'record_id';

/** Columns the app adds after the input columns; input columns may not use these names. */
export const RESULT_COLUMNS = ['response', 'embedding', 'stop_reason', 'input_tokens', 'output_tokens', 'error_code', 'error_message', RECORD_ID, 'job_id'] as const;

export function reservedColumnClashes(columns: readonly string[]): string[] {
  return columns.filter((c) => (RESULT_COLUMNS as readonly string[]).includes(c));
}

/** Fields appended to every input row; the same for every file of a run, with or without successes. */
export function resultFields(task: Task): Field[] {
  const value =
    task === 'embedding'
      ? new Field('embedding', new List(new Field('item', new Float32(), true)), true)
      : new Field('response', new Utf8(), true);
  return [
    value,
    new Field('stop_reason', new Utf8(), true),
    new Field('input_tokens', new Int32(), true),
    new Field('output_tokens', new Int32(), true),
    new Field('error_code', new Utf8(), true),
    new Field('error_message', new Utf8(), true),
    new Field(RECORD_ID, new Utf8(), false),
    new Field('job_id', new Utf8(), true),
  ];
}

/** Output schema: the input columns (snapshot minus its record id), then the result fields. */
export function outputSchema(snapshotSchema: Schema, task: Task): Schema {
  const inputFields = snapshotSchema.fields.filter((f) => f.name !== RECORD_ID);
  return new Schema([...inputFields, ...resultFields(task)]);
}
