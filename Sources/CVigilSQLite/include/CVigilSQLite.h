#ifndef CVIGILSQLITE_H
#define CVIGILSQLITE_H

/// Configures the process-wide SQLite library before its first use: multi-thread mode (no
/// per-connection mutex; GRDB already serializes each connection) and no memory statistics (no
/// global mutex on every allocation). Returns 0 when both settings took effect, otherwise the
/// SQLite result code of the first refusal (SQLITE_MISUSE when SQLite was already initialized).
int vigil_sqlite_configure(void);

#endif
