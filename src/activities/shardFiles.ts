import type { S3Client } from '@aws-sdk/client-s3';
import { Field, Schema, Utf8 } from 'apache-arrow';
import { recordBatchOf, utf8Data } from '../io/arrowColumns';
import { writeParquetToS3 } from '../io/parquetWrite';
import { ObjectWriter, createObjectWriter } from '../io/s3';
import { AsyncQueue } from '../core/asyncQueue';
import { RECORD_ID } from '../core/outputSchema';
import { ShardSink } from '../core/shardPlan';
import { shardPaths } from '../shared/paths';
import type { RecordBatch } from 'apache-arrow';

export interface ShardItem {
  recordId: string;
  line: string;
  row: string[];
}

const SNAPSHOT_BATCH_BYTES = 8 * 1024 * 1024;

/** The input rows of one shard, written as Parquet beside its JSONL so outputs can be joined back. */
class SnapshotWriter {
  private readonly queue = new AsyncQueue<RecordBatch>(2);
  private readonly done: Promise<unknown>;
  private columns: string[][];
  private ids: string[] = [];
  private bytes = 0;

  constructor(s3: S3Client, uri: string, private readonly schema: Schema) {
    this.columns = schema.fields.slice(1).map(() => []);
    this.done = writeParquetToS3(s3, uri, this.queue, { compression: 'zstd', schema }).catch((err) => {
      this.queue.fail(err);
      throw err;
    });
  }

  async add(recordId: string, row: string[]): Promise<void> {
    this.ids.push(recordId);
    for (let c = 0; c < this.columns.length; c++) {
      this.columns[c].push(row[c]);
      this.bytes += row[c].length;
    }
    if (this.bytes >= SNAPSHOT_BATCH_BYTES) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    this.queue.end();
    await this.done;
  }

  abort(err: unknown): void {
    this.queue.fail(err);
    this.done.catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (!this.ids.length) return;
    const batch = recordBatchOf(this.schema, [utf8Data(this.ids), ...this.columns.map((c) => utf8Data(c))]);
    this.ids = [];
    this.columns = this.columns.map(() => []);
    this.bytes = 0;
    await this.queue.push(batch);
  }
}

/** Writes each shard's Bedrock JSONL and input snapshot to S3 as the sequencer hands out records. */
export class ShardFileSink implements ShardSink<ShardItem> {
  private open?: { index: number; jsonl: ObjectWriter; snapshot: SnapshotWriter };
  private readonly schema: Schema;

  constructor(private readonly s3: S3Client, private readonly runUri: string, columns: string[]) {
    this.schema = new Schema([new Field(RECORD_ID, new Utf8(), false), ...columns.map((c) => new Field(c, new Utf8(), true))]);
  }

  async write(shard: number, item: ShardItem): Promise<void> {
    if (this.open?.index !== shard) {
      const paths = shardPaths(this.runUri, shard);
      this.open = {
        index: shard,
        jsonl: createObjectWriter(this.s3, paths.jsonl, { contentType: 'application/jsonl' }),
        snapshot: new SnapshotWriter(this.s3, paths.snapshot, this.schema),
      };
    }
    await this.open.jsonl.write(item.line);
    await this.open.snapshot.add(item.recordId, item.row);
  }

  async close(shard: number): Promise<void> {
    if (this.open?.index !== shard) throw new Error(`shard ${shard} closed while shard ${this.open?.index} is open`);
    const { jsonl, snapshot } = this.open;
    this.open = undefined;
    await Promise.all([jsonl.close(), snapshot.close()]);
  }

  async abort(err: unknown): Promise<void> {
    if (!this.open) return;
    const { jsonl, snapshot } = this.open;
    this.open = undefined;
    snapshot.abort(err);
    await jsonl.abort().catch(() => undefined);
  }
}
