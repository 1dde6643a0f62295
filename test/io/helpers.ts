import { S3Client } from '@aws-sdk/client-s3';
import { startMotoServer, MotoServer } from '../../src/localstack/moto';
import { createS3Client, ensureBucket } from '../../src/io/s3';

export interface MotoS3 {
  server: MotoServer;
  s3: S3Client;
}

/** One in-memory moto server per test file; call the returned stop in afterAll. */
export async function startMotoS3(bucket: string): Promise<MotoS3 & { stop(): Promise<void> }> {
  const server = await startMotoServer();
  const s3 = createS3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await ensureBucket(s3, bucket);
  return {
    server,
    s3,
    async stop() {
      s3.destroy();
      await server.stop();
    },
  };
}
