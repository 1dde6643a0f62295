/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testTimeout: 120000,
  // Suites run one at a time in a worker process that is replaced once a suite leaves more than
  // this much heap: in one process for all 115 suites, the heap reached 550 MB by the 600-shard
  // window measure, whose in-process worker then saw event-loop delays of 114 ms (p99, 16 ms in
  // a fresh process) and kept its job slots 84% busy instead of 95%.
  workerIdleMemoryLimit: '300MB',
  // No forceExit: every suite closes what it opens (connections, servers, SDK clients), so a
  // handle left open shows up as jest not exiting instead of being hidden.
};
