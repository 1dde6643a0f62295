/** A preprocessing worker thread: takes parts one at a time, with clients of its own, and posts progress back. */
import { parentPort, workerData } from 'node:worker_threads';
import { createS3Client } from '../io/s3';
import { preparePartFiles } from './prepareParts';
import type { PartJob, PartThreadMessage, PartThreadSetup } from './partThreads';

const setup = workerData as PartThreadSetup;
const s3 = createS3Client(setup.s3);
const post = (message: PartThreadMessage) => parentPort!.postMessage(message);

parentPort!.on('message', (job: PartJob) => {
  preparePartFiles({ s3, hub: setup.hub }, job.run, job.part, job.resume, (progress) => post({ kind: 'progress', progress })).then(
    (result) => post({ kind: 'done', result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ kind: 'error', name: e.name, message: e.message, stack: e.stack });
    },
  );
});
