#include "CVigilSQLite.h"
#include <sqlite3.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc */

int vigil_sqlite_configure(void) {
    int rc = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#if defined(__GLIBC__)
#include <malloc.h>

int vigil_malloc_limit_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

int vigil_malloc_trim(void) { return malloc_trim(0); }
#else
int vigil_malloc_limit_arenas(int arenas) {
    (void)arenas;
    return 0;
}

int vigil_malloc_trim(void) { return 0; }
#endif
