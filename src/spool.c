/* spool — see spool.h. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPOOL_BUF ((size_t)256 << 10)
#define LEN_BITS 24

struct ml_spool {
	int fd;
	char dir[256];        /* for messages */
	unsigned char *buf;   /* records not yet written, from file offset buf_at */
	size_t used;
	uint64_t buf_at;      /* file offset of buf[0] */
};

int
ml_tmpfile_fd(const char *dir)
{
	char path[4096];
	int fd;

	if (!dir)
		dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
#ifdef O_TMPFILE
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
#endif
	if (snprintf(path, sizeof path, "%s/mlledger-tmp.XXXXXX", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(path)) < 0)
		return -1;
	unlink(path);
	return fd;
}

int
ml_spool_open(const char *dir, struct ml_spool **out, struct ml_err *e)
{
	struct ml_spool *sp = calloc(1, sizeof *sp);

	*out = NULL;
	if (!dir)
		dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (!sp || !(sp->buf = malloc(SPOOL_BUF))) {
		free(sp);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	snprintf(sp->dir, sizeof sp->dir, "%s", dir);
	if ((sp->fd = ml_tmpfile_fd(dir)) < 0) {
		int rc = ml_err_set(e, ML_EIO, "%s: cannot make a temporary file: %s", dir,
				    strerror(errno));
		free(sp->buf);
		free(sp);
		return rc;
	}
	*out = sp;
	return ML_OK;
}

void
ml_spool_close(struct ml_spool *sp)
{
	if (!sp)
		return;
	close(sp->fd);
	free(sp->buf);
	free(sp);
}

/* Writes the n bytes at p at the end of the file (sp->buf_at), all of
 * them, and moves buf_at past them; ML_EIO naming the directory when the
 * file cannot be written (buf_at then unchanged). */
static int
write_end(struct ml_spool *sp, const unsigned char *p, size_t n, struct ml_err *e)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = pwrite(sp->fd, p + done, n - done, (off_t)(sp->buf_at + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ml_err_set(e, ML_EIO, "%s: cannot write a temporary file: %s",
					  sp->dir, w < 0 ? strerror(errno) : "no room");
		done += (size_t)w;
	}
	sp->buf_at += n;
	return ML_OK;
}

/* Writes the buffer out; on failure it is kept (nothing is lost). */
static int
flush(struct ml_spool *sp, struct ml_err *e)
{
	int rc = write_end(sp, sp->buf, sp->used, e);

	if (rc == ML_OK)
		sp->used = 0;
	return rc;
}

int
ml_spool_put(struct ml_spool *sp, const void *data, size_t len, int64_t *handle,
	     struct ml_err *e)
{
	uint64_t at = sp->buf_at + sp->used;
	int rc;

	if (len >= ML_SPOOL_RECORD_MAX || at + len >= ML_SPOOL_SIZE_MAX)
		return ml_err_set(e, ML_EINPUT, "%s: a temporary record of %zu bytes is too large",
				  sp->dir, len);
	if (sp->used + len > SPOOL_BUF && (rc = flush(sp, e)))
		return rc;
	if (len > SPOOL_BUF) {
		if ((rc = write_end(sp, data, len, e))) /* the buffer is empty */
			return rc;
	} else {
		memcpy(sp->buf + sp->used, data, len);
		sp->used += len;
	}
	*handle = (int64_t)((at << LEN_BITS) | len) + 1;
	return ML_OK;
}

size_t
ml_spool_len(int64_t handle)
{
	return handle > 0 ? (size_t)((uint64_t)(handle - 1) & ((1u << LEN_BITS) - 1)) : 0;
}

int
ml_spool_get(struct ml_spool *sp, int64_t handle, void *out, struct ml_err *e)
{
	/* unsigned: handle - 1 overflows for INT64_MIN (refused just below) */
	uint64_t at = ((uint64_t)handle - 1) >> LEN_BITS;
	size_t len = ml_spool_len(handle), done = 0;

	if (handle <= 0 || at + len > sp->buf_at + sp->used)
		return ml_err_set(e, ML_EINPUT, "not a record of this spool: %lld",
				  (long long)handle);
	if (at >= sp->buf_at) { /* still in the buffer */
		memcpy(out, sp->buf + (at - sp->buf_at), len);
		return ML_OK;
	}
	if (at + len > sp->buf_at) /* never: a record is written whole */
		return ml_err_set(e, ML_EINPUT, "not a record of this spool: %lld",
				  (long long)handle);
	while (done < len) {
		ssize_t n = pread(sp->fd, (unsigned char *)out + done, len - done,
				  (off_t)(at + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ml_err_set(e, ML_EIO, "%s: cannot read a temporary file: %s",
					  sp->dir, n < 0 ? strerror(errno) : "cut short");
		done += (size_t)n;
	}
	return ML_OK;
}

uint64_t
ml_spool_size(const struct ml_spool *sp)
{
	return sp->buf_at + sp->used;
}
