#ifndef CVIGILSQLITE_H
#define CVIGILSQLITE_H

/// Configures the process-wide SQLite library before its first use: multi-thread mode (no
/// per-connection mutex; GRDB already serializes each connection) and no memory statistics (no
/// global mutex on every allocation). Returns 0 when both settings took effect, otherwise the
/// SQLite result code of the first refusal (SQLITE_MISUSE when SQLite was already initialized).
int vigil_sqlite_configure(void);

/// glibc's allocator, for `MemoryTrimmer`: caps the number of malloc arenas (mallopt M_ARENA_MAX; returns 1 on
/// success), and gives free memory inside the arenas back to the kernel (malloc_trim; returns 1 if any was).
/// Both do nothing and return 0 on other C libraries.
int vigil_malloc_limit_arenas(int arenas);
int vigil_malloc_trim(void);

#endif
