import type { S3Client } from '@aws-sdk/client-s3';
import { Field, Schema, Utf8 } from 'apache-arrow';
import { openCsv, readCsvHeader } from './csv';
import { readParquetBatches, readParquetInfo } from './parquetRead';
import { batchRows } from './parquetRows';
import { HubSettings, openHubDataset, readHubDatasetSchema } from './huggingface';
import { headObject, openObjectStream, s3RangeBlob } from './s3';
import { isTransientSourceError } from './sourceErrors';
import type { DatasetSource } from '../shared/types';

export type DatasetFormat = 'csv' | 'parquet';

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/**
 * A Parquet reader's failure on `uri`: not a Parquet file (an input error), unless it is the source's
 * passing trouble (S3 5xx, a reset connection...), which stays retryable.
 */
export function parquetReadError(uri: string, err: unknown): Error {
  if (err instanceof DatasetError || isTransientSourceError(err)) return err as Error;
  return new DatasetError(`${uri}: not a readable Parquet file: ${(err as Error).message}`);
}

export function datasetFormat(uri: string): DatasetFormat | undefined {
  if (/\.csv$/i.test(uri)) return 'csv';
  if (/\.parquet$/i.test(uri)) return 'parquet';
  return undefined;
}

/** A dataset read row by row: each row holds one JS value per field of `schema`, in order. */
export interface DatasetRows {
  schema: Schema;
  eTag: string;
  /** Known up front for Parquet (footer), unknown for CSV. */
  rowCount?: number;
  rows: AsyncIterable<unknown[]>;
}

export function csvSchema(columns: string[]): Schema {
  return new Schema(columns.map((c) => new Field(c, new Utf8(), true)));
}

/** The columns of a dataset without reading its rows: a CSV's header, a Parquet file's footer. */
export async function readDatasetSchema(s3: S3Client, uri: string): Promise<{ schema: Schema; eTag: string }> {
  const head = await headObject(s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  if (datasetFormat(uri) === 'parquet') {
    const info = await readParquetInfo(s3RangeBlob(s3, uri, head.size, { eTag: head.eTag })).catch((err: unknown) => {
      throw parquetReadError(uri, err);
    });
    return { schema: info.schema, eTag: head.eTag };
  }
  const columns = await readCsvHeader((await openObjectStream(s3, uri)).body, uri);
  return { schema: csvSchema(columns), eTag: head.eTag };
}

/**
 * Streams a CSV or Parquet object. Parquet is read through ranged GETs one row group at a time,
 * so memory follows the file's row-group size, never the whole object.
 */
export async function openDataset(s3: S3Client, uri: string): Promise<DatasetRows> {
  const head = await headObject(s3, uri);
  if (!head) throw new DatasetError(`input object not found: ${uri}`);
  if (datasetFormat(uri) === 'parquet') {
    const blob = s3RangeBlob(s3, uri, head.size, { eTag: head.eTag });
    const { schema, numRows } = await readParquetInfo(blob);
    const rows = {
      async *[Symbol.asyncIterator]() {
        for await (const batch of readParquetBatches(blob)) yield* batchRows(batch);
      },
    };
    return { schema, eTag: head.eTag, rowCount: numRows, rows };
  }
  const object = await openObjectStream(s3, uri);
  const { columns, rows } = await openCsv(object.body, uri);
  return { schema: csvSchema(columns), eTag: object.eTag, rows };
}

/** Where datasets are read from: S3 for objects, the Hub (endpoint and token) for Hugging Face ids. */
export interface DatasetClients {
  s3: S3Client;
  hub: HubSettings;
}

export async function readSourceSchema(clients: DatasetClients, source: DatasetSource): Promise<{ schema: Schema; eTag: string }> {
  if ('huggingFace' in source) return readHubDatasetSchema(clients.hub, source.huggingFace);
  return readDatasetSchema(clients.s3, source.s3Uri);
}

export async function openSource(clients: DatasetClients, source: DatasetSource): Promise<DatasetRows> {
  if ('huggingFace' in source) return openHubDataset(clients.hub, source.huggingFace);
  return openDataset(clients.s3, source.s3Uri);
}
