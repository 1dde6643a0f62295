export { freePort, waitFor } from './ports';
export { findOnPath, isExecutable, repoRoot } from './bin';
export { startMotoServer, motoServerCommand, motoRangedByDefault } from './moto';
export type { MotoServer } from './moto';
export { findTemporalBinary, startTemporalDevServer } from './temporal';
export type { SearchAttributeTypeName, TemporalDevServer, TemporalDevServerOptions } from './temporal';
