/* tests/faults/fault_step.c — an LD_PRELOAD shim that makes the CLI's Nth
 * sqlite3_step call fail, for tests/faults/run.sh.
 *
 *   MLLEDGER_FAULT_AT=N      0-based call number to fail (unset: never)
 *   MLLEDGER_FAULT_CODE=C    the SQLite result code returned (default 13,
 *                            SQLITE_FULL)
 *   MLLEDGER_FAULT_COUNT=F   at exit, write the number of calls made to F
 *
 * Like the unit tests' link-time --wrap, only mlledger's own calls are
 * counted and failed: calls from inside libsqlite3 (sqlite3_exec, the
 * schema load) pass through, since a result code returned there without
 * the statement having failed is not a fault SQLite could produce (its
 * sqlite3_exec would finalize the statement and report SQLITE_OK).  The
 * count is shared by every thread and connection of the process (atomic).
 * The real function is found with dlsym(RTLD_NEXT). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_step(sqlite3_stmt *st);

static atomic_long calls;
static long fail_at = -1; /* -1: never */
static int fail_code = 13;

__attribute__((constructor)) static void
configure(void)
{
	const char *a = getenv("MLLEDGER_FAULT_AT"), *c = getenv("MLLEDGER_FAULT_CODE");

	fail_code = c ? atoi(c) : 13;
	fail_at = a ? atol(a) : -1;
}

int
sqlite3_step(sqlite3_stmt *st)
{
	static int (*real)(sqlite3_stmt *); /* benign race: every thread stores the same */
	static void *sqlite_base;
	Dl_info in;
	long n;

	if (!real) {
		*(void **)&real = dlsym(RTLD_NEXT, "sqlite3_step");
		if (dladdr(*(void **)&real, &in))
			sqlite_base = in.dli_fbase;
	}
	if (dladdr(__builtin_return_address(0), &in) && in.dli_fbase == sqlite_base)
		return real(st);
	n = atomic_fetch_add(&calls, 1);
	if (n == fail_at)
		return fail_code;
	return real(st);
}

__attribute__((destructor)) static void
report(void)
{
	const char *f = getenv("MLLEDGER_FAULT_COUNT");
	FILE *o;

	if (f && (o = fopen(f, "w"))) {
		fprintf(o, "%ld\n", (long)atomic_load(&calls));
		fclose(o);
	}
}
