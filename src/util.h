/* util — errors, encodings, bounded file I/O, time, UTF-8 checks, SHA-256.
 *
 * UTF-8: ml_utf8_next is the one decoder (ml_text_valid, note text checks,
 * findings' JSON/SARIF/XML escaping and the report's text cleaning all use
 * it).  Strict: shortest form only (no overlongs, so no C0/C1 lead bytes),
 * no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence; each caller decides what to do with a byte it refuses.
 *
 * The bottom of the dependency graph: may call libc, libsodium and OpenSSL's
 * libcrypto only.  Nothing here prints or exits.
 */
#ifndef ML_UTIL_H
#define ML_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The tool's version: --version, SARIF's driver, gate decisions' verifier. */
#define ML_VERSION "0.1.0"

/* Result convention (one for the whole tree, as SQLite's rc):
 *  - A function that can fail returns enum ml_rc: ML_OK (0), or the ML_E*
 *    code naming the kind of failure (ML_EINPUT bad input, ML_EIO storage,
 *    I/O or out of memory, ML_EINTEGRITY, ...), with a struct ml_err *e
 *    where a message helps.  Callers test `!= ML_OK` (or plain truth),
 *    never `< 0` or `== -1`: the codes are positive, so a failure is never
 *    mistaken for success, and the code can travel up to the exit status
 *    unchanged.  (Many older fallible functions are declared `int`; they
 *    return the same codes.)
 *  - A pure yes/no question (is it valid? does it match? did it verify?)
 *    returns bool, named as a question (..._valid, ..._is_..., ..._ok,
 *    ..._verify), so it cannot be confused with a result code: true = yes.
 *  - An answer with more than two values is a named enum (note_int.h's
 *    ml_note_sig_state), or ML_OK plus a bool out-parameter ("found",
 *    "held"); never 1/0/-1.
 *  - Callbacks handed to walkers return int holding ML_OK or an ML_E* code
 *    (non-zero stops the walk and comes back), so their pointer types stay
 *    plain int.
 *  - -1 is only ever a value (a seq, an index, "none"), never an error. */

/* Result codes double as the process exit codes documented in README.md. */
enum ml_rc {
	ML_OK = 0,
	ML_EDENY = 1,      /* policy deny */
	ML_EINPUT = 2,     /* usage or bad input */
	ML_EPOLICY = 3,    /* invalid policy or evaluation error */
	ML_EINTEGRITY = 4, /* ledger integrity failure */
	ML_EIO = 5,        /* storage or I/O error (also out of memory) */
	ML_EKEY = 6,       /* key missing, wrong passphrase, not enrolled, revoked */
	ML_ECONFLICT = 7,  /* an idempotency key already names other content */
	ML_EUNANCHORED = 8 /* verified, but nothing outside the bundle anchors it
			    * (verify --bundle without --log-key, --checkpoint
			    * or --trust): a rebuilt bundle would pass too */
};

/* A one-line error message.  Filled by the module that failed; never
 * allocated, so setting it cannot fail.  Two numbers, each with one
 * meaning: seq is a ledger entry's seq (FORMAT.md), index a position in
 * what the caller handed over in one call (the items of one
 * ml_ledger_append or batch, an import file's statements, submit's
 * files); the caller maps index back to its line or file name. */
struct ml_err {
	int code;
	long long seq;   /* the ledger entry at fault, or -1 */
	long long index; /* 0-based item of the batch at fault, or -1 */
	char msg[384];
};

/* How far clocks may disagree: an entry dated ahead of this machine's clock
 * (ledger.h), a gate decision's time and its append time (FORMAT.md §5
 * rule 12).  Fixed: a caller cannot widen it. */
#define ML_CLOCK_TOLERANCE_US (5LL * 60 * 1000000)
#define ML_MAX_FIELD (64 * 1024)        /* one string field of a statement */
#define ML_MAX_ENVELOPE (1024 * 1024)   /* one DSSE envelope */
#define ML_MAX_STATEMENT (512 * 1024)   /* its statement: base64 must fit */
#define ML_SHA256_LEN 32

void ml_err_clear(struct ml_err *e);
/* Sets code and message (printf-style) and returns code, so callers can write
 * `return ml_err_set(e, ML_EINPUT, "...")`.  e may be NULL. */
int ml_err_set(struct ml_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Rewrites e's message as "<prefix>: <message>" with code.  Returns code. */
int ml_err_prefix(struct ml_err *e, int code, const char *prefix);

/* Lowercase hex.  out must hold 2*len+1 bytes; it is NUL-terminated. */
void ml_hex_encode(const uint8_t *in, size_t len, char *out);
/* value in decimal, exactly as "%lld" writes it, at the end of buf (the
 * returned pointer; NUL-terminated): for hot paths where snprintf costs. */
const char *ml_i64_text(long long value, char buf[24]);
/* Decodes exactly outlen bytes from 2*outlen hex digits (either case).
 * ML_OK, or ML_EINPUT when hex is not exactly that long or not hex. */
enum ml_rc ml_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen);

/* Standard base64 with padding.  Returns a malloc'd NUL-terminated string
 * (caller frees), or NULL when out of memory. */
char *ml_b64_encode(const uint8_t *in, size_t len);
/* Strict standard base64 with padding (no whitespace).  *out is malloc'd
 * (caller frees; one spare NUL byte after the data).  ML_OK, ML_EINPUT
 * (not strict base64) or ML_EIO (out of memory); *out is set only on ML_OK. */
enum ml_rc ml_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);
/* Decodes into a caller buffer of exactly want bytes.  ML_OK, or
 * ML_EINPUT (not strict base64, or not exactly want bytes). */
enum ml_rc ml_b64_decode_exact(const char *in, size_t inlen, uint8_t *out, size_t want);

/* SHA-256 with OpenSSL (SHA-NI where the CPU has it).  Thread-safe. */
void ml_sha256(const void *data, size_t len, uint8_t out[ML_SHA256_LEN]);
/* Incremental SHA-256: ctx is opaque; returns NULL when out of memory. */
struct ml_sha256_ctx;
struct ml_sha256_ctx *ml_sha256_new(void);
void ml_sha256_update(struct ml_sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and frees c. */
void ml_sha256_final(struct ml_sha256_ctx *c, uint8_t out[ML_SHA256_LEN]);

/* Opens an input file for reading: O_NONBLOCK while opening (a FIFO never
 * hangs), then only a regular file is accepted ("PATH: not a regular file",
 * ML_EINPUT), and the descriptor is returned blocking and close-on-exec in
 * *fd (caller closes).  Every path the user names as input goes through
 * here (ml_read_file does). */
int ml_open_input(const char *path, int *fd, struct ml_err *e);
/* Reads a whole regular file of at most max bytes into a malloc'd buffer
 * with a trailing NUL (caller frees), opened by ml_open_input.  A file that
 * grows while read is cut at the size fstat gave.  Errors name the path. */
int ml_read_file(const char *path, size_t max, char **out, size_t *outlen,
		 struct ml_err *e);
/* Writes data to path atomically: temp file in the same folder, fsync,
 * rename, fsync of the folder.  mode is applied to the new file.  With
 * exclusive set, fails (ML_EINPUT) when path already exists. */
int ml_write_file_atomic(const char *path, const void *data, size_t len,
			 int mode, int exclusive, struct ml_err *e);

/* The same, written piece by piece, so that a large output is never held
 * whole: ml_afile_open creates the temporary file (path.tmp.PID, mode),
 * ml_afile_write appends (buffered; ML_OK, or ML_EIO once a write failed:
 * the failure is kept and reported by commit), ml_afile_commit flushes,
 * fsyncs and puts the file in place as ml_write_file_atomic does
 * (exclusive: ML_EINPUT when path exists), and
 * ml_afile_abort removes the temporary file.  After open, exactly one of
 * commit or abort must be called; both release everything.  The file is
 * opened read-write: ml_afile_map maps what was written so far (flushed)
 * for reading, e.g. to sign it before it is put in place. */
struct ml_afile {
	int fd;
	int mode, exclusive;
	int err;              /* errno of the first failed write, or 0 */
	unsigned char *buf;   /* ML_AFILE_BUF bytes, or NULL (unbuffered) */
	size_t used;
	uint64_t len;         /* bytes written so far */
	void *map;            /* ml_afile_map's mapping, or NULL */
	size_t maplen;
	char path[4096], tmp[4096];
};
#define ML_AFILE_BUF ((size_t)1 << 20)
int ml_afile_open(struct ml_afile *f, const char *path, int mode, int exclusive,
		  struct ml_err *e);
enum ml_rc ml_afile_write(struct ml_afile *f, const void *data, size_t len);
int ml_afile_map(struct ml_afile *f, const uint8_t **data, size_t *len, struct ml_err *e);
int ml_afile_commit(struct ml_afile *f, struct ml_err *e);
void ml_afile_abort(struct ml_afile *f);

/* Decodes the UTF-8 sequence at s[0..len) (len >= 1): returns its length
 * (1..4) and sets *cp, or returns 0 (and leaves *cp alone) when s does not
 * start with a valid, complete, shortest-form sequence of a scalar value. */
size_t ml_utf8_next(const unsigned char *s, size_t len, uint32_t *cp);

/* True when s[0..len) is valid UTF-8 without C0 controls other than those in
 * allowed (for example "\n\t"), without DEL and C1 controls. */
bool ml_text_valid(const char *s, size_t len, const char *allowed);

/* Microseconds since the Unix epoch, UTC. */
int64_t ml_now_us(void);
/* Microseconds of a monotonic clock (for deadlines and durations only:
 * its origin is arbitrary). */
int64_t ml_mono_us(void);
/* Formats as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (seconds truncated).  buf
 * must hold 21 bytes. */
void ml_time_format(int64_t us, char buf[21]);
/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" to microseconds.  ML_OK,
 * or ML_EINPUT (then *us is untouched). */
enum ml_rc ml_time_parse(const char *s, int64_t *us);

/* Parses s[0..len) as an ASCII decimal of 1 to 19 digits without sign or
 * leading zeros ("0" itself is fine), at most max (<= 2^63 - 1): the form
 * every size, index, level and width of the C2SP formats takes.  ML_OK and
 * *out set, or ML_EINPUT. */
enum ml_rc ml_decimal_parse(const char *s, size_t len, uint64_t max, uint64_t *out);

/* Big-endian helpers. */
void ml_put_be64(uint8_t *p, uint64_t v);
void ml_put_be32(uint8_t *p, uint32_t v);
uint64_t ml_get_be64(const uint8_t *p);
uint32_t ml_get_be32(const uint8_t *p);

/* A growable byte buffer.  Members are public; free with ml_buf_free. */
struct ml_buf {
	uint8_t *data;
	size_t len, cap;
	int oom;    /* set once an append failed; further appends are ignored */
	FILE *sink; /* optional: where ml_buf_drain writes (not owned) */
};
void ml_buf_append(struct ml_buf *b, const void *data, size_t len);
void ml_buf_puts(struct ml_buf *b, const char *s);
/* Appends s as one RFC 4180 CSV cell: quoted when it holds a comma, a quote
 * (doubled), CR or LF, or when it starts like a spreadsheet formula (= + -
 * @, tab or CR), which also gets a leading apostrophe so that it stays
 * text.  numeric: s is a number mlledger wrote ("-0.5"), never prefixed. */
void ml_csv_cell(struct ml_buf *b, const char *s, int numeric);
void ml_buf_printf(struct ml_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ml_buf_free(struct ml_buf *b);
/* With a sink and at least min bytes held, writes them to the sink and
 * empties the buffer (a long output then never sits whole in memory); a
 * failed write sets oom.  Without a sink, does nothing. */
void ml_buf_drain(struct ml_buf *b, size_t min);

#endif
