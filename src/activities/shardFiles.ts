import type { S3Client } from '@aws-sdk/client-s3';
import { Data, DataType, Field, Schema, Utf8, vectorFromArray } from 'apache-arrow';
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
  /** One JS value per input field, in schema order. */
  row: unknown[];
}

/** Strings take the fast path; other types (from Parquet inputs) go through Arrow's builders, keeping their type. */
function columnData(type: DataType, values: unknown[]): Data {
  if (DataType.isUtf8(type)) return utf8Data(values as Array<string | null>);
  return vectorFromArray(values, type).data[0];
}

const SNAPSHOT_BATCH_BYTES = 8 * 1024 * 1024;

/** The input rows of one shard, written as Parquet beside its JSONL so outputs can be joined back. */
class SnapshotWriter {
  private readonly queue = new AsyncQueue<RecordBatch>(2);
  private readonly done: Promise<unknown>;
  private columns: unknown[][];
  private ids: string[] = [];
  private bytes = 0;

  constructor(s3: S3Client, uri: string, private readonly schema: Schema) {
    this.columns = schema.fields.slice(1).map(() => []);
    this.done = writeParquetToS3(s3, uri, this.queue, { compression: 'zstd', schema }).catch((err) => {
      this.queue.fail(err);
      throw err;
    });
  }

  async add(recordId: string, row: unknown[]): Promise<void> {
    this.ids.push(recordId);
    for (let c = 0; c < this.columns.length; c++) {
      const value = row[c];
      this.columns[c].push(value);
      this.bytes += typeof value === 'string' ? value.length : 8;
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
    const inputFields = this.schema.fields.slice(1);
    const batch = recordBatchOf(this.schema, [utf8Data(this.ids), ...this.columns.map((c, i) => columnData(inputFields[i].type, c))]);
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

  constructor(private readonly s3: S3Client, private readonly runUri: string, input: Schema) {
    this.schema = new Schema([new Field(RECORD_ID, new Utf8(), false), ...input.fields]);
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
