import { writeObject } from '../../src/io/s3';
import type { S3Client } from '@aws-sdk/client-s3';

const TOPICS = ['cats', 'dogs', 'databases', 'durable workflows', 'the ocean', 'coffee', 'trains', 'rain, "mostly"', 'émigrés', 'line\nbreaks'];

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export type SampleRow = { id: string; topic: string; input_text: string } & Record<string, string>;

/** Rows with quoting, unicode and embedded newlines, so the CSV path is exercised for real. */
export function sampleRows(n: number): SampleRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `row-${i}`,
    topic: `${TOPICS[i % TOPICS.length]} #${i}`,
    input_text: `Document ${i} about ${TOPICS[(i * 7) % TOPICS.length]}.`,
  }));
}

export function toCsv(rows: ReadonlyArray<Record<string, string>>): string {
  const columns = Object.keys(rows[0]);
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => csvField(r[c])).join(','))];
  return `${lines.join('\n')}\n`;
}

export async function uploadCsv(s3: S3Client, uri: string, rows: ReadonlyArray<Record<string, string>>): Promise<void> {
  await writeObject(s3, uri, toCsv(rows), 'text/csv');
}
