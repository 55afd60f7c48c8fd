/* benchutil — small helpers for bench/run.sh (no dependencies beyond libc).
 *
 *   benchutil gen N [FIRST]     N import lines (JSONL) for `mlledger import`,
 *                               numbered from line FIRST (default 0); chunks
 *                               made with consecutive FIRST values form one
 *                               consistent history.
 *   benchutil time LOG CMD...   runs CMD with stdout+stderr appended to LOG,
 *                               prints the wall time in seconds (monotonic
 *                               clock); exits with CMD's status.
 *   benchutil timemem LOG CMD...
 *                               the same, printing "SECONDS PEAK_KB" (the
 *                               child's maximum resident set size).
 *   benchutil now               monotonic clock, seconds.
 *   benchutil stats             reads numbers (one a line) on stdin, prints
 *                               "count median p90 min max".
 *   benchutil model LINE        the model NAME@VERSION the generator defines
 *                               in the block holding LINE.
 *   benchutil bytes N SEED      N pseudo-random bytes on stdout (xorshift64*,
 *                               a function of SEED; several GB/s, so large
 *                               artifacts are quick to make and repeatable).
 *
 * The generated history is a set of model families.  Each block of 20
 * lines releases one new model version of one family:
 *    2 datasets (train/eval split)      dataset
 *    1 model (datasets + parent)        model
 *    6 evaluations (on the eval set)    evaluation
 *    staging: approval, deployment, 3 monitoring windows
 *    production: approval, deployment, 4 monitoring windows
 * i.e. 10 % datasets, 5 % models, 30 % evaluations, 10 % approvals,
 * 10 % deployments, 35 % monitoring.  The model of block b has parent the
 * model of block b - NFAM (same family, previous version).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* wait4 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 20

static const char *const fam[] = {
	"fraud-scorer",     "churn-predictor",  "credit-risk",      "demand-forecast",
	"doc-classifier",   "support-intent",   "image-moderation", "search-ranker",
	"price-optimizer",  "anomaly-detector", "speech-asr",       "ocr-invoices",
	"recsys-retrieval", "recsys-ranking",   "ner-contracts",    "toxicity-filter",
	"eta-regressor",    "lead-scoring",     "claims-triage",    "sentiment-reviews",
	"kyc-face-match",   "aml-graph",        "translation-de-en", "summarizer-tickets",
	"churn-uplift",     "ltv-estimator",    "route-planner",    "defect-vision",
	"energy-load",      "retail-forecast",  "spam-detector",    "code-review-bot",
};
#define NFAM (sizeof fam / sizeof fam[0])

static const char *const suites[] = {"holdout", "fairness", "robustness",
				     "calibration", "latency", "regression"};
static const char *const frameworks[] = {"pytorch-2.3", "xgboost-2.0", "sklearn-1.5",
					 "jax-0.4", "lightgbm-4.3", "tensorflow-2.16"};
static const char *const teams[] = {"risk-ml", "growth-ml", "platform-ml", "vision",
				    "nlp", "ops-analytics"};

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* 64 lowercase hex digits, a function of (what, id). */
static void
digest(char out[65], unsigned what, uint64_t id)
{
	int i;

	for (i = 0; i < 4; i++)
		snprintf(out + 16 * i, 17, "%016llx",
			 (unsigned long long)mix(id * 8 + what + ((uint64_t)i << 56)));
}

/* Uniform double in [lo, hi) from (what, id). */
static double
unif(uint64_t id, unsigned what, double lo, double hi)
{
	return lo + (hi - lo) * (double)(mix(id * 131 + what) >> 11) / 9007199254740992.0;
}

static void
model_ref(char *out, size_t cap, uint64_t b)
{
	snprintf(out, cap, "%s@1.%llu.0", fam[b % NFAM], (unsigned long long)(b / NFAM));
}

static void
dataset_ref(char *out, size_t cap, uint64_t b, const char *split)
{
	snprintf(out, cap, "%s-%s@2024.%llu", fam[b % NFAM], split,
		 (unsigned long long)(b / NFAM));
}

static void
gen_line(uint64_t line)
{
	uint64_t b = line / BLOCK;
	unsigned k = (unsigned)(line % BLOCK);
	const char *f = fam[b % NFAM];
	char model[160], train[160], eval[160], parent[160], dg[65];
	const char *env = k < 14 ? "staging" : "production";

	model_ref(model, sizeof model, b);
	dataset_ref(train, sizeof train, b, "train");
	dataset_ref(eval, sizeof eval, b, "eval");
	switch (k) {
	case 0:
	case 1:
		digest(dg, k, b);
		printf("{\"kind\":\"dataset\",\"subject\":\"%s\",\"digest\":\"sha256:%s\","
		       "\"uri\":\"s3://ml-data-lake/%s/%s/%llu/part-*.parquet\","
		       "\"properties\":{\"rows\":%llu,\"columns\":%u,\"format\":\"parquet\","
		       "\"source\":\"warehouse.%s_%s\",\"license\":\"internal\",\"pii\":false,"
		       "\"owner\":\"%s\",\"snapshot\":\"2024-%02u-%02u\"}}\n",
		       k ? eval : train, dg, f, k ? "eval" : "train",
		       (unsigned long long)(b / NFAM),
		       (unsigned long long)(mix(line) % 50000000 + 10000), (unsigned)(mix(b) % 200 + 8),
		       f, k ? "holdout" : "events", teams[b % 6], (unsigned)(b % 12 + 1),
		       (unsigned)(b % 28 + 1));
		break;
	case 2:
		digest(dg, 2, b);
		if (b >= NFAM)
			model_ref(parent, sizeof parent, b - NFAM);
		printf("{\"kind\":\"model\",\"subject\":\"%s\",\"digest\":\"sha256:%s\","
		       "\"datasets\":[\"%s\",\"%s\"]%s%s%s,"
		       "\"metrics\":{\"train_loss\":%.4f,\"val_loss\":%.4f,\"epochs\":%u},"
		       "\"properties\":{\"framework\":\"%s\",\"git_commit\":\"%.40s\","
		       "\"params\":%llu,\"team\":\"%s\",\"pipeline_run\":\"run-%llu\"}}\n",
		       model, dg, train, eval, b >= NFAM ? ",\"parent\":\"" : "",
		       b >= NFAM ? parent : "", b >= NFAM ? "\"" : "", unif(b, 1, 0.05, 0.4),
		       unif(b, 2, 0.08, 0.5), (unsigned)(mix(b) % 40 + 5), frameworks[b % 6],
		       dg + 13, (unsigned long long)(mix(b + 7) % 900000000 + 100000),
		       teams[b % 6], (unsigned long long)line);
		break;
	case 3: case 4: case 5: case 6: case 7: case 8:
		printf("{\"kind\":\"evaluation\",\"subject\":\"%s\",\"dataset\":\"%s\","
		       "\"metrics\":{\"accuracy\":%.4f,\"f1\":%.4f,\"auc\":%.4f,"
		       "\"precision\":%.4f,\"recall\":%.4f,\"samples\":%llu},"
		       "\"properties\":{\"suite\":\"%s\",\"harness\":\"evalkit-3.2\","
		       "\"seed\":%u,\"hardware\":\"a100-40gb\"}}\n",
		       model, eval, unif(line, 1, 0.8, 0.99), unif(line, 2, 0.7, 0.95),
		       unif(line, 3, 0.85, 0.999), unif(line, 4, 0.7, 0.99),
		       unif(line, 5, 0.6, 0.99), (unsigned long long)(mix(line) % 1000000 + 5000),
		       suites[k - 3], (unsigned)(mix(line + 3) % 100000));
		break;
	case 9:
	case 14:
		printf("{\"kind\":\"approval\",\"subject\":\"%s\",\"environment\":\"%s\","
		       "\"decision\":\"%s\",\"comment\":\"Reviewed evaluation suite results, "
		       "fairness report and model card for %s; change ticket MLOPS-%llu.\"}\n",
		       model, env, (k == 14 && mix(b) % 10 == 0) ? "reject" : "approve", model,
		       (unsigned long long)(line / 2 + 1000));
		break;
	case 10:
	case 15:
		printf("{\"kind\":\"deployment\",\"subject\":\"%s\",\"environment\":\"%s\","
		       "\"properties\":{\"cluster\":\"%s-eu-west-1\",\"replicas\":%u,"
		       "\"endpoint\":\"https://%s.%s.internal/v1/predict\","
		       "\"image\":\"registry.internal/ml/%s:%llu\",\"canary_percent\":%u}}\n",
		       model, env, env, (unsigned)(mix(line) % 12 + 2), f, env, f,
		       (unsigned long long)(b / NFAM), k == 10 ? 100u : 10u);
		break;
	default: /* 11-13, 16-19: monitoring windows */
		printf("{\"kind\":\"monitoring\",\"subject\":\"%s\",\"environment\":\"%s\","
		       "\"metrics\":{\"latency_p50_ms\":%.2f,\"latency_p99_ms\":%.2f,"
		       "\"error_rate\":%.5f,\"drift_psi\":%.4f,\"requests\":%llu},"
		       "\"properties\":{\"window_start\":\"2024-%02u-%02uT%02u:00:00Z\","
		       "\"window_hours\":1,\"monitor\":\"evidently-0.4\"}}\n",
		       model, env, unif(line, 1, 3, 40), unif(line, 2, 40, 400),
		       unif(line, 3, 0, 0.02), unif(line, 4, 0, 0.3),
		       (unsigned long long)(mix(line) % 5000000 + 1000), (unsigned)(b % 12 + 1),
		       (unsigned)(b % 28 + 1), k);
		break;
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
pct(const double *v, size_t n, double p)
{
	size_t r = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

static int
cmd_stats(void)
{
	double *v = NULL, x, med;
	size_t n = 0, cap = 0;

	while (scanf("%lf", &x) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(v = realloc(v, cap * sizeof *v)))
				return 1;
		}
		v[n++] = x;
	}
	if (!n) {
		puts("0 nan nan nan nan");
		return 1;
	}
	qsort(v, n, sizeof *v, cmp_double);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf("%zu %.6g %.6g %.6g %.6g\n", n, med, pct(v, n, 90), v[0], v[n - 1]);
	free(v);
	return 0;
}

static int
cmd_time(int argc, char **argv, int mem)
{
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int st, fd;

	if (argc < 4)
		return 2;
	fflush(stdout);
	t0 = now();
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return 2;
	t1 = now();
	if (mem)
		printf("%.6f %ld\n", t1 - t0, ru.ru_maxrss);
	else
		printf("%.6f\n", t1 - t0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
cmd_bytes(uint64_t n, uint64_t seed)
{
	static uint64_t buf[1 << 17]; /* 1 MiB */
	uint64_t x = mix(seed) | 1;
	size_t i, k;

	while (n > 0) {
		for (i = 0; i < sizeof buf / sizeof buf[0]; i++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			buf[i] = x * 0x2545f4914f6cdd1dULL;
		}
		k = n < sizeof buf ? (size_t)n : sizeof buf;
		if (fwrite(buf, 1, k, stdout) != k)
			return 1;
		n -= k;
	}
	return fflush(stdout) ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "gen")) {
		uint64_t n = strtoull(argv[2], NULL, 10), first = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
		uint64_t i;
		static char buf[1 << 20];

		setvbuf(stdout, buf, _IOFBF, sizeof buf);
		for (i = first; i < first + n; i++)
			gen_line(i);
		return fflush(stdout) ? 1 : 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "bytes"))
		return cmd_bytes(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
	if (argc >= 2 && !strcmp(argv[1], "time"))
		return cmd_time(argc, argv, 0);
	if (argc >= 2 && !strcmp(argv[1], "timemem"))
		return cmd_time(argc, argv, 1);
	if (argc >= 2 && !strcmp(argv[1], "now")) {
		printf("%.6f\n", now());
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "stats"))
		return cmd_stats();
	if (argc >= 3 && !strcmp(argv[1], "model")) {
		char m[160];
		model_ref(m, sizeof m, strtoull(argv[2], NULL, 10) / BLOCK);
		puts(m);
		return 0;
	}
	fputs("usage: benchutil gen N [FIRST] | time LOG CMD... | timemem LOG CMD... | now | stats | model LINE | bytes N SEED\n",
	      stderr);
	return 2;
}
