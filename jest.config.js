/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testTimeout: 120000,
  // No forceExit: every suite closes what it opens (connections, servers, SDK clients), so a
  // handle left open shows up as jest not exiting instead of being hidden.
};
