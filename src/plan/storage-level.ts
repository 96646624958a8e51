/** Storage levels for cache()/persist(), as in PySpark's StorageLevel (the subset Cinder supports). */
export type StorageLevelName = 'MEMORY_ONLY' | 'MEMORY_AND_DISK' | 'DISK_ONLY';

export const StorageLevel = {
  MEMORY_ONLY: 'MEMORY_ONLY',
  MEMORY_AND_DISK: 'MEMORY_AND_DISK',
  DISK_ONLY: 'DISK_ONLY',
} as const satisfies Record<StorageLevelName, StorageLevelName>;
