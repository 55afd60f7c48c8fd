/* baseline — the "physical limit" figures mlledger is compared with.
 *
 *   baseline DB N [PAYLOAD_BYTES]
 *
 * a. bare import loop: for N entries build a payload of PAYLOAD_BYTES
 *    (default 600), SHA-256 it (OpenSSL EVP), Ed25519-sign it (libsodium
 *    crypto_sign_detached) and INSERT it into a SQLite table in DB (WAL,
 *    synchronous=FULL), all N in one transaction.
 * b. bare verify loop: crypto_sign_verify_detached of the N signatures
 *    split over all online cores (pthreads), and on one core.
 *
 * Prints "key value" lines for run.sh:
 *   import_eps, import_s, verify_threads, verify_eps, verify_s,
 *   verify1_n, verify1_eps
 *
 * Build: cc -O2 baseline.c -lsodium -lsqlite3 -lcrypto -lpthread
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <sqlite3.h>

/* Single-core verification is checked on at most this many signatures. */
#define VERIFY1_MAX 20000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, sqlite3 *db)
{
	fprintf(stderr, "baseline: %s: %s\n", what, db ? sqlite3_errmsg(db) : "failed");
	exit(1);
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "baseline: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

/* A JSON-ish payload of exactly len bytes, different for each i. */
static void
payload(uint8_t *p, size_t len, uint64_t i)
{
	int n = snprintf((char *)p, len, "{\"seq\":%llu,\"kind\":\"evaluation\","
			 "\"subject\":\"fraud-scorer@1.%llu.0\",\"metrics\":{\"accuracy\":0.%04llu},"
			 "\"pad\":\"", (unsigned long long)i, (unsigned long long)(i / 32),
			 (unsigned long long)(i % 10000));
	size_t k = n > 0 && (size_t)n < len ? (size_t)n : 0;

	for (; k + 2 < len; k++)
		p[k] = (uint8_t)('a' + (i + k) % 26);
	if (len >= 2) {
		p[len - 2] = '"';
		p[len - 1] = '}';
	}
}

struct vjob {
	const uint8_t *msgs, *sigs, *pk;
	size_t len, from, to;
	size_t bad;
};

static void *
verify_range(void *arg)
{
	struct vjob *j = arg;
	size_t i;

	for (i = j->from; i < j->to; i++)
		if (crypto_sign_verify_detached(j->sigs + i * crypto_sign_BYTES,
						j->msgs + i * j->len, j->len, j->pk) != 0)
			j->bad++;
	return NULL;
}

/* Verifies sigs [0, n) over `threads` threads; returns seconds. */
static double
verify_all(const uint8_t *msgs, const uint8_t *sigs, const uint8_t *pk, size_t len,
	   size_t n, int threads)
{
	pthread_t th[256];
	struct vjob jobs[256];
	size_t bad = 0;
	double t0;
	int i;

	t0 = now();
	for (i = 0; i < threads; i++) {
		jobs[i] = (struct vjob){msgs, sigs, pk, len, n * (size_t)i / (size_t)threads,
					n * (size_t)(i + 1) / (size_t)threads, 0};
		if (pthread_create(&th[i], NULL, verify_range, &jobs[i]) != 0)
			die("pthread_create", NULL);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		bad += jobs[i].bad;
	}
	t0 = now() - t0;
	if (bad) {
		fprintf(stderr, "baseline: %zu signatures did not verify\n", bad);
		exit(1);
	}
	return t0;
}

int
main(int argc, char **argv)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t hash[EVP_MAX_MD_SIZE];
	unsigned hlen;
	uint8_t *msgs, *sigs;
	size_t n, len, i, n1;
	sqlite3 *db;
	sqlite3_stmt *ins;
	double t0, dt;
	long ncpu;
	int threads;

	if (argc < 3) {
		fputs("usage: baseline DB N [PAYLOAD_BYTES]\n", stderr);
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	len = argc > 3 ? strtoull(argv[3], NULL, 10) : 600;
	if (n == 0 || len < 64 || len > 1 << 20)
		return 2;
	if (sodium_init() < 0)
		die("sodium_init", NULL);
	crypto_sign_keypair(pk, sk);
	msgs = malloc(n * len);
	sigs = malloc(n * crypto_sign_BYTES);
	if (!msgs || !sigs)
		die("out of memory", NULL);

	/* a. bare import loop. */
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		die(argv[1], db);
	exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		 "CREATE TABLE entries (seq INTEGER PRIMARY KEY NOT NULL, payload BLOB NOT NULL,"
		 " hash BLOB NOT NULL, sig BLOB NOT NULL)");
	t0 = now();
	if (sqlite3_prepare_v2(db, "INSERT INTO entries (seq, payload, hash, sig) "
			       "VALUES (?1, ?2, ?3, ?4)", -1, &ins, NULL) != SQLITE_OK)
		die("prepare", db);
	exec(db, "BEGIN IMMEDIATE");
	for (i = 0; i < n; i++) {
		uint8_t *m = msgs + i * len, *s = sigs + i * crypto_sign_BYTES;

		payload(m, len, i);
		if (!EVP_Digest(m, len, hash, &hlen, EVP_sha256(), NULL))
			die("EVP_Digest", NULL);
		crypto_sign_detached(s, NULL, m, len, sk);
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
		sqlite3_bind_blob(ins, 2, m, (int)len, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 3, hash, (int)hlen, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 4, s, crypto_sign_BYTES, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("insert", db);
		sqlite3_reset(ins);
	}
	exec(db, "COMMIT");
	dt = now() - t0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	printf("import_eps %.1f\nimport_s %.3f\n", (double)n / dt, dt);
	fflush(stdout);

	/* b. bare verify loop, all cores then one core. */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	threads = ncpu < 1 ? 1 : ncpu > 256 ? 256 : (int)ncpu;
	dt = verify_all(msgs, sigs, pk, len, n, threads);
	printf("verify_threads %d\nverify_eps %.1f\nverify_s %.3f\n", threads, (double)n / dt,
	       dt);
	n1 = n < VERIFY1_MAX ? n : VERIFY1_MAX;
	dt = verify_all(msgs, sigs, pk, len, n1, 1);
	printf("verify1_n %zu\nverify1_eps %.1f\n", n1, (double)n1 / dt);
	free(msgs);
	free(sigs);
	return 0;
}
