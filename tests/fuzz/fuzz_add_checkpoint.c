/* fuzz_add_checkpoint — `serve`'s POST /add-checkpoint (C2SP tlog-witness):
 * ml_witness_add_checkpoint on a hostile body, with a witness whose state
 * (in a private temporary folder) is reset before every input.
 *
 * Input: one mode byte, then the body.  Mode bit 0: the body is sent as
 * is.  Set: what follows the body's first empty line is taken as a
 * checkpoint text and signed here with the log's key, so that the fuzzer
 * reaches the state, the proof and the cosignature.  Mode bit 1: no state
 * (first use); else the state holds size 5 of the fixed tree below (leaf i
 * = SHA-256 of the byte i; tests/fuzz/corpus/add_checkpoint holds valid
 * requests from it).  A fork at size 5 leaves its evidence files (kept
 * once, witness.h); they change no answer but its log line.
 *
 * Properties (witness.h): the status is one the header lists; 409 is
 * text/x.tlog.size with the stored size; other refusals are one line; a
 * refusal leaves the state's bytes as they were; a 200 is one cosignature
 * line that verifies on the checkpoint sent, of the log's origin, and the
 * state then holds that checkpoint, whose size is at least old. */
#include "fuzz.h"

#include <sodium.h>
#include <unistd.h>

#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_cosig.h"
#include "tlog.h"
#include "witness.h"

#define ORIGIN "example.org/log"
#define NOW 1767225600

static struct ml_seckey *logk, *wk;
static struct ml_cosig_key wck;
static struct ml_witness_config cfg;
static char dir[64], state[128], *held;
static size_t held_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);

static int
node(void *ctx, unsigned level, uint64_t index, uint8_t out[ML_SHA256_LEN])
{
	uint8_t l[ML_SHA256_LEN], r[ML_SHA256_LEN], b = (uint8_t)index;

	(void)ctx;
	if (level == 0) {
		ml_sha256(&b, 1, out);
		return 0;
	}
	if (node(ctx, level - 1, 2 * index, l) || node(ctx, level - 1, 2 * index + 1, r))
		return -1;
	ml_merkle_node(l, r, out);
	return 0;
}

/* Removes the scratch folder at exit: the state, its lock and the fork
 * evidence (the stored size is always 5). */
static void
cleanup(void)
{
	const char *const names[] = {"", ".lock", ".fork-5.cosigned", ".fork-5.refused"};
	char p[192];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s%s", state, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ml_checkpoint c = {.size = 5};
	struct ml_buf text = {0}, note = {0};
	uint8_t seed[32];
	struct ml_err e;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x11, sizeof seed);
	if (ml_seckey_from_seed(ORIGIN, seed, &logk, &e) != ML_OK)
		abort();
	memset(seed, 0x22, sizeof seed);
	if (ml_seckey_from_seed("w1", seed, &wk, &e) != ML_OK)
		abort();
	ml_cosig_key_of(wk, &wck);
	snprintf(dir, sizeof dir, "%s/fz-witness-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(state, sizeof state, "%s/w.state", dir);
	atexit(cleanup);
	snprintf(c.origin, sizeof c.origin, ORIGIN);
	if (ml_merkle_root(node, NULL, 5, c.root))
		abort();
	ml_checkpoint_format(&c, &text);
	if (ml_note_sign(logk, (const char *)text.data, text.len, &note, &e) != ML_OK)
		abort();
	held = (char *)note.data;
	held_len = note.len;
	ml_buf_free(&text);
	cfg.key = wk;
	cfg.log = ml_seckey_public(logk);
	cfg.state = state;
	cfg.lock_timeout_s = 1;
	return 0;
}

/* Writes the state (or removes it); no fsync: the folder is scratch. */
static void
state_reset(int first_use)
{
	FILE *f;

	unlink(state);
	if (first_use)
		return;
	if (!(f = fopen(state, "w")) || fwrite(held, 1, held_len, f) != held_len || fclose(f))
		abort();
}

/* The state's bytes (malloc'd, NUL-terminated; NULL when absent). */
static char *
state_read(size_t *len)
{
	FILE *f = fopen(state, "r");
	char *b;

	if (!f)
		return NULL;
	b = malloc(16384);
	if (!b)
		abort();
	*len = fread(b, 1, 16383, f);
	b[*len] = '\0';
	fclose(f);
	return b;
}

/* The body with the text after its first empty line replaced by that text
 * signed by the log (NULL when there is no empty line or it cannot be
 * signed: then the body goes as is). */
static struct ml_buf *
sign_body(const uint8_t *data, size_t size)
{
	static struct ml_buf out;
	const uint8_t *p = NULL;
	struct ml_err e;
	size_t i;

	for (i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && data[i + 1] == '\n') {
			p = data + i + 2;
			break;
		}
	if (!p)
		return NULL;
	out.len = 0;
	ml_buf_append(&out, data, (size_t)(p - data));
	if (ml_note_sign(logk, (const char *)p, size - (size_t)(p - data), &out, &e) != ML_OK)
		return NULL;
	return &out;
}

/* Checks a 200: one line, a cosignature by w1 on the note sent. */
static void
check_cosigned(const char *body, size_t len, const struct ml_witness_reply *r)
{
	struct ml_checkpoint cp;
	struct ml_buf all = {0};
	struct ml_note n;
	struct ml_err e;
	uint64_t ts = 0;
	const char *note = memchr(body, '\n', len);

	/* the note: after the first empty line */
	while (note && note + 1 < body + len && note[1] != '\n')
		note = memchr(note + 1, '\n', (size_t)(body + len - note - 1));
	FZ_ASSERT(note);
	note += 2;
	FZ_ASSERT(r->body.len > 0 && memchr(r->body.data, '\n', r->body.len) ==
		  r->body.data + r->body.len - 1);
	ml_buf_append(&all, note, (size_t)(body + len - note));
	ml_buf_append(&all, r->body.data, r->body.len);
	FZ_ASSERT(ml_note_parse((const char *)all.data, all.len, &n, &e) == ML_OK);
	FZ_ASSERT(ml_cosig_verify(&n, &wck, &ts) && ts == NOW);
	FZ_ASSERT(ml_checkpoint_parse(n.text, n.text_len, &cp, &e) == ML_OK);
	FZ_ASSERT(strcmp(cp.origin, ORIGIN) == 0);
	ml_note_clear(&n);
	ml_buf_free(&all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_witness_reply r;
	struct ml_buf *signed_body = NULL;
	const char *body;
	char *before, *after;
	size_t len, blen = 0, alen = 0;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	state_reset(mode & 2);
	before = state_read(&blen);
	if ((mode & 1) && (signed_body = sign_body(data, size))) {
		body = (const char *)signed_body->data;
		len = signed_body->len;
	} else {
		body = (const char *)data;
		len = size;
	}
	ml_witness_add_checkpoint(&cfg, body, len, NOW, &r);
	after = state_read(&alen);
	switch (r.status) {
	case 200:
		check_cosigned(body, len, &r);
		FZ_ASSERT(after != NULL);
		break;
	case 409:
		FZ_ASSERT(strcmp(r.content_type, "text/x.tlog.size") == 0);
		FZ_ASSERT(r.body.len == 2 &&
			  !memcmp(r.body.data, (mode & 2) ? "0\n" : "5\n", 2));
		/* fall through */
	case 400: case 403: case 404: case 413: case 422: case 500:
		FZ_ASSERT(r.body.len > 0 && r.body.data[r.body.len - 1] == '\n' &&
			  memchr(r.body.data, '\n', r.body.len) ==
				  r.body.data + r.body.len - 1);
		FZ_ASSERT((!before && !after) ||
			  (before && after && blen == alen && !memcmp(before, after, blen)));
		break;
	default:
		FZ_ASSERT(!"a status witness.h does not list");
	}
	ml_witness_reply_free(&r);
	free(before);
	free(after);
	return 0;
}
