export type {
  SuppressedRecipient,
  SuppressionEntry,
  SuppressionFilterResult,
  SuppressionInput,
  SuppressionListOptions,
  SuppressionPage,
  SuppressionReason,
  SuppressionSource,
  SuppressionStore,
} from './suppression.types.js';
export { SUPPRESSION_SOURCES } from './suppression.types.js';
export { normalizeAddress } from './suppression.address.js';
export {
  entriesToSuppress,
  entryFromClassification,
  shouldSuppress,
  suppressedRejection,
  suppressionTtl,
  validateSuppressionPolicy,
} from './suppression.policy.js';
export type { ClassifiedRecipient, EntryFromClassificationOptions, SuppressionPolicyOptions } from './suppression.policy.js';
export { DEFAULT_MEMORY_MAX_ENTRIES, MemorySuppressionStore } from './memory-suppression.store.js';
export type { MemorySuppressionStoreOptions } from './memory-suppression.store.js';
export {
  DEFAULT_SUPPRESSION_COMMAND_TIMEOUT,
  DEFAULT_SUPPRESSION_CONNECT_TIMEOUT,
  DEFAULT_SUPPRESSION_KEY_PREFIX,
  RedisSuppressionStore,
} from './redis-suppression.store.js';
export {
  DEFAULT_MAX_BUFFERED,
  DEFAULT_MAX_PROBE_INTERVAL,
  DEFAULT_PROBE_INTERVAL,
  DEFAULT_SUPPRESSION_TIMEOUT,
  SuppressionCircuit,
} from './suppression.circuit.js';
export type { SuppressionCircuitListener, SuppressionCircuitOptions, SuppressionUnavailableMode } from './suppression.circuit.js';
export type { RedisSuppressionStoreOptions } from './redis-suppression.store.js';
export { IOREDIS_PACKAGE, importIoredis } from './ioredis.loader.js';
export type { OwnedSuppressionRedisClient, SuppressionRedisClient, SuppressionRedisClientConstructor } from './ioredis.loader.js';
