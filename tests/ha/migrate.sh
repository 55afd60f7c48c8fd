#!/bin/bash
# tests/ha/migrate.sh — a ledger moved into the PostgreSQL store of record
# and back, byte for byte, and every way a row, a note or the store can be
# wrong refused.
#
#   MLLEDGER=/abs/path/to/mlledger bash tests/ha/migrate.sh
#
# Starts its own primary + synchronous standby (tests/ha/pglib.sh, as the
# postgres user, 127.0.0.1, ports the kernel picked, in the scratch
# folder), always stopped on exit; bounded by MIGRATE_TIMEOUT seconds
# (default 300).  Skips (exit 0) when PostgreSQL 15 cannot run here.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
HA=$(cd "$(dirname "$0")" && pwd)
. "$HA/../cli/harness.sh" migrate
. "$HA/pglib.sh"
trap 'pg_cluster_stop; cd / && rm -rf "$W"' EXIT
PY=/usr/bin/python3
# the whole suite is bounded: a watchdog ends it (and the trap stops PG)
# (its sleep ends with it: a stray sleep would hold our output open, and a
# pipe reading it would wait out the whole timeout)
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "${MIGRATE_TIMEOUT:-300}" & sp=$!
  wait "$sp" || exit 0
  echo "not ok - timeout" >&2; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!
trap 'kill "$WATCHDOG" 2>/dev/null; pg_cluster_stop; cd / && rm -rf "$W"' EXIT

# rows DB: every entry row of a SQLite ledger, one line each, all bytes
rows() {
	sqlite3 -batch "$1" "SELECT seq, hex(prev), appended_us, hex(envelope), hex(leaf_hash)
		FROM entries ORDER BY seq"
}
notes() { sqlite3 -batch "$1" "SELECT size, hex(note) FROM checkpoints ORDER BY size"; }
gone() { [ ! -e "$1" ] && [ ! -e "$1-wal" ] && [ ! -e "$1-shm" ]; }
# newdb NAME: a new empty database NAME owned by mlledger, its URL on stdout
newdb() {
	pg_sql "$PG_PRIMARY_PORT" "CREATE DATABASE $1 OWNER mlledger" >/dev/null || return 1
	echo "postgresql://mlledger@127.0.0.1:$PG_PRIMARY_PORT/$1"
}
# q DB SQL: SQL as the superuser in database DB of the primary
q() {
	pg_as "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_DIR/sock" \
		-p "$PG_PRIMARY_PORT" -U postgres -d "$1" -c "$2"
}

# ---- a ledger with entries of several kinds and a gate decision -------------
export MLLEDGER_LEDGER=$W/l.db
for k in admin ci alice bob val rita; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null &&
"$M" key enroll alice.pub --holder-key alice.key --role approver --key admin.key >/dev/null &&
"$M" key enroll bob.pub --holder-key bob.key --role approver --key admin.key >/dev/null &&
"$M" key enroll val.pub --holder-key val.key --role validator --key admin.key >/dev/null &&
"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null &&
echo data >d.bin && echo model >m.bin &&
"$M" record dataset d@1 --file d.bin --set license=MIT --set pii=false --key ci.key >/dev/null &&
"$M" record model m@1 --artifact m.bin --dataset d@1 --metric auc=0.9 --key ci.key >/dev/null &&
"$M" record evaluation m@1 --metric auc=0.9 --key val.key >/dev/null &&
"$M" record approval m@1 --env prod --decision approve --key alice.key >/dev/null &&
"$M" record approval m@1 --env prod --decision approve --key bob.key >/dev/null &&
"$M" policy record "$POL" --key rita.key >/dev/null &&
"$M" gate --policy production m@1 --env prod --key ci.key >/dev/null &&
"$M" record deployment m@1 --env prod --key ci.key >/dev/null ||
	{ nok "build the source ledger" "a command failed"; finish; exit 1; }
"$M" log-key >log.pub
"$M" verify --decisions >/dev/null || { nok "the source verifies" ""; finish; exit 1; }
N=$(rows l.db | wc -l)
unset MLLEDGER_LEDGER

pg_cluster_start "$W"
case $? in
0) ;;
2) skip "migrate" "PostgreSQL cannot run here"; finish; exit 0 ;;
*) nok "start PostgreSQL" "pg_cluster_start failed"; finish; exit 1 ;;
esac

# ---- there and back -------------------------------------------------------
expect 0 "migrate a ledger into PostgreSQL" "$N entries" \
	"$M" migrate --from l.db --to "$PG_URL"
before=$(q ledger "SELECT count(*) FROM mlledger_entries")
expect 7 "into a database that holds a ledger: exit 7" "" \
	"$M" migrate --from l.db --to "$PG_URL"
[ "$(q ledger "SELECT count(*) FROM mlledger_entries")" = "$before" ] &&
	[ "$before" = "$N" ] && ok "the refused copy changed nothing" ||
	nok "the refused copy changed nothing" "rows $before, want $N"
expect 0 "migrate back into a new ledger file" "read-only replica" \
	"$M" migrate --from "$PG_URL" --to back.db
if [ -n "$(rows l.db)" ] && [ "$(rows l.db)" = "$(rows back.db)" ]; then
	ok "every entry row is byte-identical (seq, prev, time, envelope, leaf)"
else
	nok "every entry row is byte-identical" "$(diff <(rows l.db) <(rows back.db) | head -3)"
fi
[ "$(notes l.db)" = "$(notes back.db)" ] && ok "every checkpoint note came back" ||
	nok "every checkpoint note came back" "$(notes l.db | wc -l) vs $(notes back.db | wc -l)"
expect 0 "the copy verifies, decisions replayed" "" "$M" --ledger back.db verify --decisions
expect 6 "the copy without --log-key is read-only" "" \
	"$M" --ledger back.db record evaluation m@1 --metric auc=0.8 --key val.key
expect 2 "into an existing file: exit 2" "exists" \
	"$M" migrate --from "$PG_URL" --to back.db
expect 0 "from the hot standby too" "" "$M" migrate --from "$PG_URL_STANDBY" --to sb.db
[ "$(rows sb.db)" = "$(rows l.db)" ] && ok "the standby's copy is byte-identical" ||
	nok "the standby's copy is byte-identical" ""

# ---- export --store -------------------------------------------------------
expect 0 "export --store writes the auditor bundle" "MANIFEST signed" \
	"$M" export --store "$PG_URL" --out bundle --key admin.key
expect 0 "verify --bundle accepts it" "" "$M" verify --bundle bundle --log-key log.pub
[ "$(rows bundle/ledger.db)" = "$(rows l.db)" ] &&
	ok "the bundle's entries are byte-identical" || nok "the bundle's entries are byte-identical" ""
if "$PY" -c 'import nacl.signing' 2>/dev/null; then
	expect 0 "the independent verifier accepts the bundle" "ok" \
		"$PY" "$HA/../interop/verify_ledger.py" --bundle log.pub bundle
else
	skip "the independent verifier accepts the bundle" "python3-nacl missing"
fi
ls -d "${TMPDIR:-/tmp}"/mlledger-store.* >/dev/null 2>&1 &&
	nok "export --store leaves no temporary copy" "$(ls -d "${TMPDIR:-/tmp}"/mlledger-store.*)" ||
	ok "export --store leaves no temporary copy"

# ---- --log-key ------------------------------------------------------------
expect 0 "--log-key makes the copy appendable" "" \
	"$M" migrate --from "$PG_URL" --to app.db --log-key l.db.log.key
[ "$(stat -c %a app.db.log.key 2>/dev/null)" = 600 ] && ok "the copied log key is mode 0600" ||
	nok "the copied log key is mode 0600" "$(stat -c %a app.db.log.key 2>&1)"
expect 0 "and takes an append" "" \
	"$M" --ledger app.db record evaluation m@1 --metric auc=0.8 --key val.key
expect 0 "which verifies" "" "$M" --ledger app.db verify
"$M" key new other >/dev/null && "$M" --ledger o.db init --key other.key >/dev/null
expect 6 "--log-key of another ledger is refused" "not the key of this log" \
	"$M" migrate --from "$PG_URL" --to wrong.db --log-key o.db.log.key
gone wrong.db && ok "and leaves no file" || nok "and leaves no file" "$(ls wrong.db*)"

# ---- usage and the store --------------------------------------------------
expect 2 "sqlite to sqlite is refused" "two ledger files" \
	"$M" migrate --from l.db --to x.db
expect 2 "pg to pg is refused" "two URLs" "$M" migrate --from "$PG_URL" --to "$PG_URL"
expect 2 "a malformed URL: exit 2" "" \
	"$M" migrate --from l.db --to "postgresql://127.0.0.1:1/db?no_such_option=1"
closed=$(pg_free_port)
expect 5 "an unreachable store: exit 5 naming it" "127.0.0.1" \
	"$M" migrate --from "postgresql://mlledger@127.0.0.1:$closed/ledger?connect_timeout=3" --to u.db
[ "$(wc -l <err)" = 1 ] && ok "in one line" || nok "in one line" "$(cat err)"
gone u.db && ok "and leaves no file" || nok "and leaves no file" ""
expect 2 "--log-key with a URL target is refused" "" \
	"$M" migrate --from l.db --to "$PG_URL" --log-key l.db.log.key
expect 2 "export --store with a file is refused" "postgresql" \
	"$M" export --store l.db --out b2 --key admin.key

# ---- tampered rows: each in a fresh database ------------------------------
# tampered NAME SQL PATTERN: migrate into a new database, run SQL there,
# migrate back: exit 4 with PATTERN, no file left.
MID=$((N / 2))
tampered() {
	local url
	url=$(newdb "$1") || { nok "$1" "no database"; return; }
	"$M" migrate --from l.db --to "$url" >/dev/null 2>&1 || { nok "$1" "copy failed"; return; }
	# the append-only triggers are off for this session only (a superuser)
	q "$1" "SET session_replication_role = replica; $2" >/dev/null ||
		{ nok "$1" "tamper SQL failed"; return; }
	expect 4 "$1: migrate back refuses it" "$3" "$M" migrate --from "$url" --to "$1.db"
	gone "$1.db" && ok "$1: no file left" || nok "$1: no file left" "$(ls "$1".db*)"
}
tampered t_env "UPDATE mlledger_entries SET envelope = overlay(envelope placing
	'\\x20'::bytea from 30 for 1) WHERE seq = $MID" "entry $MID"
tampered t_prev "UPDATE mlledger_entries SET prev = sha256(prev) WHERE seq = $MID" "entry $MID"
tampered t_time "UPDATE mlledger_entries SET time_us = time_us + 1 WHERE seq = $MID" "entry $MID"
tampered t_leaf "UPDATE mlledger_entries SET leaf = sha256(leaf) WHERE seq = $MID" "entry $MID"
tampered t_del "DELETE FROM mlledger_entries WHERE seq = $MID" "$MID"
# a forger who also recomputes the leaf column: the signature catches it
tampered t_forge "UPDATE mlledger_entries SET envelope = overlay(envelope placing
	'\x20'::bytea from 30 for 1) WHERE seq = $MID; UPDATE mlledger_entries SET leaf =
	sha256('\x0001'::bytea || int8send(seq) || prev || int8send(time_us) ||
	int4send(octet_length(envelope)) || envelope) WHERE seq = $MID" "entry $MID"
# a note of another size where one was (the size line says so)
tampered t_note_swap "UPDATE mlledger_checkpoints SET note = (SELECT note FROM
	mlledger_checkpoints ORDER BY size LIMIT 1) WHERE size = (SELECT max(size) FROM
	mlledger_checkpoints WHERE size < $N)" "checkpoint"
# one base64 character of the latest note's signature changed
tampered t_note_sig "UPDATE mlledger_checkpoints SET note = overlay(note placing
	CASE WHEN substr(note, length(note) - 3, 1) = 'A' THEN 'B' ELSE 'A' END
	from length(note) - 3 for 1) WHERE size = $N" "checkpoint"

# ---- a working copy that follows -----------------------------------------
# A: the ledger at N entries; then two more entries go into l.db and B gets
# all N+2; l0.db, a copy of l.db at N, gets one other entry, into C.
A=$(newdb f_a) && "$M" migrate --from l.db --to "$A" >/dev/null 2>&1
sqlite3 l.db ".backup l0.db" && cp l.db.log.key l0.db.log.key
"$M" --ledger l.db record evaluation m@1 --metric auc=0.91 --key val.key >/dev/null &&
	"$M" --ledger l.db record evaluation m@1 --metric auc=0.92 --key val.key >/dev/null
B=$(newdb f_b) && "$M" migrate --from l.db --to "$B" >/dev/null 2>&1
"$M" --ledger l0.db record evaluation m@1 --metric auc=0.5 --key val.key >/dev/null
C=$(newdb f_c) && "$M" migrate --from l0.db --to "$C" >/dev/null 2>&1
"$M" migrate --from "$A" --to wc.db >/dev/null 2>&1
expect 0 "--update: a working copy catches up" "size $((N + 2)) (was $N)" \
	"$M" migrate --from "$B" --to wc.db --update
expect 0 "--update when up to date is a no-op" "size $((N + 2)) (was $((N + 2)))" \
	"$M" migrate --from "$B" --to wc.db --update
expect 4 "--update: a copy ahead of the store is a fork" "holds $((N + 2)) entries" \
	"$M" migrate --from "$A" --to wc.db --update
"$M" migrate --from "$A" --to wc2.db >/dev/null 2>&1 &&
	"$M" migrate --from "$B" --to wc2.db --update >/dev/null 2>&1
"$M" migrate --from "$A" --to wc3.db >/dev/null 2>&1 &&
	"$M" migrate --from "$C" --to wc3.db --update >/dev/null 2>&1
expect 4 "--update: another entry at the copy's last seq is a fork" "fork" \
	"$M" migrate --from "$B" --to wc3.db --update
[ "$(rows wc3.db | wc -l)" = $((N + 1)) ] && ok "the forked copy is unchanged" ||
	nok "the forked copy is unchanged" "$(rows wc3.db | wc -l) rows"
expect 0 "the caught-up copy verifies" "" "$M" --ledger wc2.db verify

finish
