#!/usr/bin/env node
// The `batch` command (package.json "bin"): runs the TypeScript CLI through tsx, so `npx batch …`
// and `npm run cli -- …` run the same code without a build step.
require('tsx/cjs/api').register();
require('../src/client/cli.ts').main();
