/* note_trust — c2sp.org/tlog-policy trust policies (the ml_trust_* API; not the
 * XML policy engine of policy.h).
 *
 * Part of the note module: pure functions over bytes, bounded inputs,
 * errors and dependencies as note.h says.
 */
#ifndef ML_NOTE_TRUST_H
#define ML_NOTE_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "note.h"
#include "util.h"

/* c2sp.org/tlog-policy, one item a line, items separated by spaces and tabs,
 * leading and trailing white space allowed, empty lines and lines whose
 * first non-blank character is '#' ignored:
 *     log <vkey> [<url>]                   Ed25519 note key (type 0x01); its
 *                                          name is the log's origin
 *     witness <name> <vkey> [<url>]        cosignature key (type 0x04)
 *     group <name> all|any|<k> <name>...   1 <= k <= n members, each a witness
 *                                          or group defined on an earlier line
 *     quorum <name>|none                   exactly one, naming an earlier
 *                                          witness or group
 * Witnesses and groups share one namespace; "none" is predefined and cannot
 * be a member; a name may be listed as a group member at most once in the
 * whole policy; two logs or two witnesses with the same public key, and a
 * witness whose public key is a log's (a log cannot witness itself,
 * whatever the names and key types), are refused.  Allowed bytes: tab, newline, 0x20-0x7E and 0x80-0xFF (names are
 * opaque octets).  Limits (the spec recommends at least 32 of each): */
#define ML_TRUST_MAX (64 * 1024)   /* policy bytes */
#define ML_TRUST_LOGS_MAX 64
#define ML_TRUST_WITNESSES_MAX 64
#define ML_TRUST_GROUPS_MAX 64
#define ML_TRUST_NAME_MAX 128      /* bytes of a witness or group name */
struct ml_trust;
/* Parses a policy.  ML_EINPUT with "line N: reason"; ML_EIO when out of
 * memory.  *out is set only on success; free with ml_trust_free.  Vkeys
 * are parsed with ml_pubkey_parse / ml_cosig_vkey_parse, so key names are
 * limited to printable ASCII. */
int ml_trust_parse(const char *text, size_t len, struct ml_trust **out,
		    struct ml_err *e);
/* NULL is fine. */
void ml_trust_free(struct ml_trust *p);
/* The logs' verifier keys the policy names, in order (i < ml_trust_nlogs). */
size_t ml_trust_nlogs(const struct ml_trust *p);
const struct ml_pubkey *ml_trust_log(const struct ml_trust *p, size_t i);
/* True when the note's text is a checkpoint, it is signed by one of the
 * policy's logs whose key name equals the checkpoint's origin, and it is
 * cosigned by the quorum; else false, and why (cap bytes, may be NULL) receives
 * a one-line reason.  A signature line of a key the policy names that fails
 * to verify rejects the whole note (signed-note: clients "SHOULD reject the
 * whole note").  A policy without logs accepts no note.  Cosignature times
 * are not compared with a clock (ml_trust_check_at does). */
bool ml_trust_check(const struct ml_trust *p, const struct ml_note *n, char *why,
		     size_t cap);
/* The clock a cosignature's timestamp is judged by (seconds since the
 * epoch): a valid cosignature dated after now + tolerance fails the whole
 * check (a witness never signs in the future); with max_age > 0, one dated
 * before now - max_age counts as no cosignature (it may still be met by
 * other witnesses). */
struct ml_trust_clock {
	int64_t now, tolerance, max_age;
};
/* What a successful check saw: the names of the witnesses whose valid,
 * counted cosignatures the note carries (", " between them, in policy
 * order; cut at the buffer's end) and the newest of their timestamps (0
 * when none). */
struct ml_trust_seen {
	char names[512];
	size_t nwitnesses;
	uint64_t newest;
};
/* ml_trust_check with a clock (NULL: times are not compared) and what it
 * saw (may be NULL; filled even when the check fails). */
bool ml_trust_check_at(const struct ml_trust *p, const struct ml_note *n,
		        const struct ml_trust_clock *clk, struct ml_trust_seen *seen,
		        char *why, size_t cap);

#endif
