import type { S3Client } from '@aws-sdk/client-s3';
import { Data, DataType, Field, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { recordBatchOf, utf8Data } from '../io/arrowColumns';
import { type ParquetWriteOptions, writeParquetToS3 } from '../io/parquetWrite';
import { LEAN_UPLOAD } from '../io/objectWriter';
import { ObjectWriter, createObjectWriter, writeObject } from '../io/s3';
import { AsyncQueue } from '../core/asyncQueue';
import { RECORD_ID } from '../core/outputSchema';
import { ShardSink } from '../core/shardPlan';
import type { RecordBatch } from 'apache-arrow';
import { TextSnapshotWriter, isTextSchema } from './textSnapshot';

export interface ShardItem {
  recordId: string;
  line: string;
  /** One JS value per input field, in schema order. */
  row: unknown[];
  /** Kept out of the job: the row goes to the snapshot and its reason to the shard's sidecar, not to the JSONL. */
  rejected?: { code: string; message: string };
}

export interface ShardFilePaths {
  jsonl: string;
  snapshot: string;
  skipped?: string;
}

/** Strings take the fast path; other types (from Parquet inputs) go through Arrow's builders, keeping their type. */
function columnData(type: DataType, values: unknown[]): Data {
  if (DataType.isUtf8(type)) return utf8Data(values as Array<string | null>);
  return vectorFromArray(values, type).data[0];
}

const SNAPSHOT_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * The snapshot is an internal file, read back once when the shard's outputs are joined. SNAPPY
 * instead of ZSTD halves the writer's CPU (ZSTD was ~25 µs a 1.5 KB row, a quarter of
 * preprocessing) for a ~1.4x bigger object; dictionaries are off because input text columns are
 * mostly unique (arrow-rs would hash every value and then give up on the dictionary anyway).
 * Row groups of 16 MiB: the writer's wasm memory peaks at ~2.5x the open row group and never
 * shrinks (64 MiB groups took prep-parquet's wasm from ~170 to ~270 MB), and collectShard reads
 * the snapshot back a row group at a time.
 */
const SNAPSHOT_ROW_GROUP_BYTES = 16 * 1024 * 1024;
const SNAPSHOT_PARQUET = (schema: Schema): ParquetWriteOptions => ({ compression: 'snappy', dictionary: false, schema, maxRowGroupBytes: SNAPSHOT_ROW_GROUP_BYTES });

/**
 * The input rows of one shard, written as Parquet beside its JSONL so outputs can be joined back;
 * schemas of strings only (every CSV input) take TextSnapshotWriter instead.
 */
class SnapshotWriter {
  private readonly queue = new AsyncQueue<RecordBatch>(2);
  private readonly done: Promise<unknown>;
  private columns: unknown[][];
  private ids: string[] = [];
  private bytes = 0;

  constructor(s3: S3Client, uri: string, private readonly schema: Schema) {
    this.columns = schema.fields.slice(1).map(() => []);
    this.done = writeParquetToS3(s3, uri, this.queue, SNAPSHOT_PARQUET(schema)).catch((err) => {
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
  private open?: { index: number; jsonl: ObjectWriter; snapshot: SnapshotWriter | TextSnapshotWriter; skipped: string[]; skippedUri?: string };
  private readonly schema: Schema;

  constructor(
    private readonly s3: S3Client,
    input: Schema,
    private readonly pathsOf: (shard: number) => ShardFilePaths,
  ) {
    this.schema = new Schema([new Field(RECORD_ID, new Utf8(), false), ...input.fields]);
  }

  async write(shard: number, item: ShardItem): Promise<void> {
    if (this.open?.index !== shard) {
      const paths = this.pathsOf(shard);
      this.open = {
        index: shard,
        jsonl: createObjectWriter(this.s3, paths.jsonl, { contentType: 'application/jsonl', ...LEAN_UPLOAD }),
        snapshot: isTextSchema(this.schema) ? new TextSnapshotWriter(this.s3, paths.snapshot, this.schema) : new SnapshotWriter(this.s3, paths.snapshot, this.schema),
        skipped: [],
        skippedUri: paths.skipped,
      };
    }
    if (item.rejected) {
      if (!this.open.skippedUri) throw new Error(`shard ${shard} has no file for rejected records`);
      // Small (id, code, message) lines, held until the shard closes: rejected records are few.
      this.open.skipped.push(JSON.stringify({ recordId: item.recordId, code: item.rejected.code, message: item.rejected.message }));
    } else await this.open.jsonl.write(item.line);
    await this.open.snapshot.add(item.recordId, item.row);
  }

  async close(shard: number): Promise<void> {
    if (this.open?.index !== shard) throw new Error(`shard ${shard} closed while shard ${this.open?.index} is open`);
    const { jsonl, snapshot, skipped, skippedUri } = this.open;
    this.open = undefined;
    // Only shards with rejected records get a sidecar: the rest cost no extra object.
    const sidecar = skipped.length && skippedUri ? writeObject(this.s3, skippedUri, `${skipped.join('\n')}\n`, 'application/jsonl') : undefined;
    await Promise.all([jsonl.close(), snapshot.close(), sidecar]);
  }

  async abort(err: unknown): Promise<void> {
    if (!this.open) return;
    const { jsonl, snapshot } = this.open;
    this.open = undefined;
    snapshot.abort(err);
    await jsonl.abort().catch(() => undefined);
  }
}
