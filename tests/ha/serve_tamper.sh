#!/bin/bash
# tests/ha/serve_tamper.sh — rows of the PostgreSQL store of record changed
# behind the front-ends' backs, as the superuser (session_replication_role
# replica: the append-only triggers do not fire), and what `serve --store`
# does about it.  Two writer front-ends fe1, fe2 and a read-only one (ro,
# on the standby) over one database:
#   a. fe1 appends; before fe2 adopts that entry, its row is changed
#      (envelope byte, prev, time_us, leaf): fe2's next append is refused
#      (HTTP 500 naming the entry; submit --server exits 5), nothing is
#      written; once the row is put back fe2 appends again.
#   b. the last rows deleted and the head moved back (a failover that lost
#      what fe1 holds): fe1 refuses every append (500, "disagree"), fe2,
#      which never held them, goes on; at the same size with another last
#      entry fe1 still refuses.
#   c. ro answers POST /add with 503, and never serves a checkpoint larger
#      than its working copy, nor one of a size the store has no entries for.
#   d. a forged note in mlledger_checkpoints: ro keeps serving the older
#      checkpoint, and follows again once a valid later one is stored; a new
#      front-end made from the store refuses to start on it.
#
#   MLLEDGER=/abs/path/to/mlledger bash tests/ha/serve_tamper.sh
#
# Uses the cluster of tests/ha/suites.sh when PG_DIR and PG_PRIMARY_PORT are
# exported, else starts its own (tests/ha/pglib.sh; skips, exit 0, when
# PostgreSQL 15 cannot run here).  Bounded: about 30 s.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
HA=$(cd "$(dirname "$0")" && pwd)
_pgdir=${PG_DIR:-} _pgp=${PG_PRIMARY_PORT:-} _pgs=${PG_STANDBY_PORT:-}
unset ML_TEST_STORE # the front-ends here are given their --store themselves
. "$HA/../cli/harness.sh" sttamper
. "$HA/../cli/serverlib.sh"
. "$HA/pglib.sh"
if [ -n "$_pgdir" ] && [ -n "$_pgp" ] && [ -n "$_pgs" ]; then
	PG_DIR=$_pgdir PG_PRIMARY_PORT=$_pgp PG_STANDBY_PORT=$_pgs
else
	trap 'serve_stop_all; pg_cluster_stop; cd / && rm -rf "$W"' EXIT
	pg_cluster_start "$W"
	case $? in
	0) ;;
	2) echo "ok - serve_tamper # SKIP PostgreSQL cannot run here"; exit 0 ;;
	*) nok "cluster" "did not start"; finish; exit 1 ;;
	esac
fi
CURL="curl -s --max-time 20"
DB=tamper$$
URL=postgresql://mlledger@127.0.0.1:$PG_PRIMARY_PORT/$DB
URL_RO=postgresql://mlledger@127.0.0.1:$PG_STANDBY_PORT/$DB
# q SQL: as the superuser in DB on the primary, the append-only triggers off
q() {
	pg_as "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_DIR/sock" -p "$PG_PRIMARY_PORT" \
		-U postgres -d "$DB" -c "SET session_replication_role = replica; $1"
}
head_size() { q "SELECT size FROM mlledger_head"; }
# post URL FILE NAME: POST /add; NAME.code, NAME.body
post() {
	$CURL -o "$3.body" -w '%{http_code}' --data-binary @"$2" "$1/add" >"$3.code" 2>/dev/null
}
code() { cat "$1.code" 2>/dev/null; }
index_of() { sed -n 's/^index \([0-9]*\)$/\1/p' "$1.body"; }
n=0
sign() { # NAME: a new dataset envelope NAME.env
	n=$((n + 1))
	"$M" --ledger l.db sign dataset "$1@1" --digest "sha256:$(printf %064d $((n + 500)))" \
		--key ci.key --out "$1.env" >/dev/null 2>&1 || echo "setup: sign $1 failed" >&2
}
ck_size() { $CURL "$1/checkpoint" | sed -n 2p; }
copy_size() { sqlite3 -batch "file:$1?mode=ro" "SELECT count(*) FROM entries" 2>/dev/null; }

for k in admin ci; do "$M" key new $k >/dev/null || exit 1; done
{ "$M" --ledger l.db init --key admin.key &&
	"$M" --ledger l.db key enroll ci.pub --holder-key ci.key --role engineer --key admin.key &&
	"$M" --ledger l.db log-key >log.pub &&
	pg_sql "$PG_PRIMARY_PORT" "CREATE DATABASE $DB OWNER mlledger" &&
	"$M" migrate --from l.db --to "$URL"; } >setup.log 2>&1 ||
	{ nok "setup" "$(tail -3 setup.log)"; finish; exit 1; }
# the standby replays what the primary committed (synchronous_commit on
# waits for its flush, not its replay): wait until it has the ledger
for i in $(seq 1 100); do
	[ "$(pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR/sock" -p "$PG_STANDBY_PORT" -U postgres \
		-d "$DB" -c "SELECT size FROM mlledger_head" 2>/dev/null)" = "$(head_size)" ] && break
	sleep 0.1
done
# fe2 follows only at its start (60 s): what fe1 appends it meets in its batches
serve_start fe1 fe1.db --store "$URL" --log-key l.db.log.key --follow-interval 200 ||
	{ nok "fe1 starts" ""; finish; exit 1; }
F1=$SERVE_URL
serve_start fe2 fe2.db --store "$URL" --log-key l.db.log.key --follow-interval 60000 ||
	{ nok "fe2 starts" ""; finish; exit 1; }
F2=$SERVE_URL
serve_start ro ro.db --store "$URL_RO" --read-only --follow-interval 200 ||
	{ nok "ro starts" ""; finish; exit 1; }
RO=$SERVE_URL
ok "two writer front-ends and a read-only one on the standby start"

# ---- c. the read-only front-end refuses appends --------------------------------
sign ro0
post "$RO" ro0.env ro0
[ "$(code ro0)" = 503 ] && ok "c. read-only: POST /add answers 503" ||
	nok "c. read-only: POST /add answers 503" "$(code ro0) $(head -c 200 ro0.body)"

# ---- a. a row changed before the other writer adopts it ------------------------
for v in envelope prev time_us leaf; do
	sign a_$v
	post "$F1" a_$v.env a_$v
	s=$(index_of a_$v)
	[ "$(code a_$v)" = 200 ] && [ -n "$s" ] || { nok "a. fe1 appends ($v)" "$(code a_$v)"; continue; }
	orig=$(q "SELECT encode($v::text::bytea, 'hex') FROM mlledger_entries WHERE seq = $s" 2>&1)
	case $v in
	time_us) orig=$(q "SELECT time_us FROM mlledger_entries WHERE seq = $s")
		set_to="time_us + 1" back="$orig" ;;
	envelope) set_to="set_byte(envelope, 40, get_byte(envelope, 40) # 1)"
		back="decode('$(q "SELECT encode(envelope, 'hex') FROM mlledger_entries WHERE seq = $s")', 'hex')" ;;
	*) set_to="set_byte($v, 0, get_byte($v, 0) # 1)"
		back="decode('$(q "SELECT encode($v, 'hex') FROM mlledger_entries WHERE seq = $s")', 'hex')" ;;
	esac
	q "UPDATE mlledger_entries SET $v = $set_to WHERE seq = $s" >/dev/null ||
		{ nok "a. tamper $v" "UPDATE failed"; continue; }
	h0=$(head_size)
	sign b_$v
	post "$F2" b_$v.env b_$v
	if [ "$(code b_$v)" = 500 ] && grep -q "entry $s\b" b_$v.body; then
		ok "a. $v of entry $s changed: fe2's append answers 500 naming entry $s"
	else
		nok "a. $v of entry $s changed: fe2's append is refused" "$(code b_$v) $(head -c 300 b_$v.body)"
	fi
	if [ "$v" = envelope ]; then
		expect 5 "a. ... and submit --server exits 5 naming the entry" "entry $s" \
			"$M" submit --server "$F2" --log-key log.pub b_$v.env
	fi
	[ "$(head_size)" = "$h0" ] && [ "$(q "SELECT count(*) FROM mlledger_entries WHERE seq >= $h0")" = 0 ] &&
		ok "a. ($v) nothing was written to the store" ||
		nok "a. ($v) nothing was written to the store" "head $(head_size), was $h0"
	[ "$(copy_size fe2.db)" -lt "$h0" ] && ok "a. ($v) fe2's working copy took nothing in" ||
		nok "a. ($v) fe2's working copy took nothing in" "$(copy_size fe2.db) entries, store $h0"
	q "UPDATE mlledger_entries SET $v = $back WHERE seq = $s" >/dev/null ||
		nok "a. restore $v" "UPDATE failed"
done
sign b_ok
post "$F2" b_ok.env b_ok
h=$(head_size)
[ "$(code b_ok)" = 200 ] && [ "$(index_of b_ok)" = $((h - 1)) ] && [ "$(copy_size fe2.db)" = "$h" ] &&
	ok "a. the rows put back: fe2 adopts fe1's 4 entries and appends (index $((h - 1)))" ||
	nok "a. the rows put back: fe2 appends" "$(code b_ok) $(head -c 200 b_ok.body); head $h"

# ---- c/d. the read-only follower and checkpoint notes --------------------------
S=$(head_size)
for i in $(seq 1 50); do [ "$(ck_size "$RO")" = "$S" ] && break; sleep 0.2; done
$CURL "$RO/checkpoint" >cp0
$CURL "$F2/checkpoint/$S" >cpS
[ "$(sed -n 2p cp0)" = "$S" ] && cmp -s cp0 cpS && ok "c. ro follows the store to fe2's checkpoint $S" ||
	nok "c. ro follows the store to fe2's checkpoint $S" "$(sed -n 2p cp0)"
# a note for a size the store has no entries for
# (size S's note, its size line S+1: well formed, its signature no longer holds)
q "SELECT encode(convert_to(note, 'UTF8'), 'hex') FROM mlledger_checkpoints WHERE size = $S" \
	>note0.hex || nok "d. read note" ""
/usr/bin/python3 -c 'import sys
n = bytes.fromhex(open(sys.argv[1]).read().strip()).split(b"\n")
n[1] = sys.argv[2].encode(); open(sys.argv[3], "wb").write(b"\n".join(n))' note0.hex $((S + 1)) forged
q "INSERT INTO mlledger_checkpoints (size, note) VALUES ($((S + 1)),
   convert_from(decode('$(od -An -tx1 -v forged | tr -d ' \n')', 'hex'), 'UTF8'))" >/dev/null ||
	nok "d. forged note inserted" "SQL failed"
bad=
for i in $(seq 1 8); do
	$CURL "$RO/checkpoint" >cpi
	cs=$(sed -n 2p cpi)
	cmp -s cpi cp0 && [ "$cs" -le "$(copy_size ro.db)" ] || bad="$bad $cs"
	sleep 0.2
done
[ -z "$bad" ] && ok "c. a note beyond the store's entries: ro keeps serving size $S" ||
	nok "c. ro keeps its checkpoint" "served sizes$bad"
# that forged note is now the first of its size: fe2's own is ignored by the store
sign e1
post "$F2" e1.env e1
[ "$(code e1)" = 200 ] && [ "$(index_of e1)" = "$S" ] || nok "d. fe2 appends entry $S" "$(code e1)"
bad=
for i in $(seq 1 8); do
	$CURL "$RO/checkpoint" >cpi
	cmp -s cpi cp0 || bad="$bad $(sed -n 2p cpi)"
	sleep 0.2
done
[ -z "$bad" ] && ok "d. a forged note of size $((S + 1)) in the store: ro keeps serving size $S" ||
	nok "d. ro keeps the older checkpoint" "served sizes$bad"
grep -q "following" ro.log && ok "d. ro says why it does not follow ($(grep following ro.log | tail -1 | cut -c1-120)...)" ||
	nok "d. ro says why it does not follow" "$(tail -2 ro.log)"
c=$($CURL -o ro1.served -w '%{http_code}' "$RO/checkpoint/$((S + 1))")
[ "$c" = 404 ] || ! cmp -s ro1.served forged && ok "d. ro does not serve the forged note (/checkpoint/$((S + 1)): $c)" ||
	nok "d. ro does not serve the forged note" "$c"
rm -f fe3.db
if serve_start fe3 fe3.db --store "$URL_RO" --read-only 2>/dev/null; then
	nok "d. a new front-end made from the store refuses the forged note" "it started"
	serve_stop fe3
else
	grep -q "$((S + 1))\|checkpoint\|signature" fe3.log &&
		ok "d. a new front-end made from the store refuses to start ($(tail -1 fe3.log | cut -c1-100)...)" ||
		nok "d. a new front-end refuses to start, saying why" "$(tail -2 fe3.log)"
fi
sign e2
post "$F2" e2.env e2
$CURL "$F2/checkpoint" >cp2
for i in $(seq 1 50); do [ "$(ck_size "$RO")" = "$((S + 2))" ] && break; sleep 0.2; done
$CURL "$RO/checkpoint" >cpi
[ "$(code e2)" = 200 ] && [ "$(sed -n 2p cp2)" = $((S + 2)) ] && cmp -s cpi cp2 &&
	ok "d. a valid later note: ro follows again, to fe2's checkpoint $((S + 2))" ||
	nok "d. ro follows again to $((S + 2))" "$(code e2) ro $(sed -n 2p cpi), fe2 $(sed -n 2p cp2)"


# ---- b. the store shorter than fe1's working copy ----------------------------
sign c0
post "$F1" c0.env c0 # fe1 adopts fe2's entry first
s0=$(head_size)
sign c1
sign c2
post "$F1" c1.env c1
post "$F1" c2.env c2
[ "$(code c1)" = 200 ] && [ "$(code c2)" = 200 ] && [ "$(head_size)" = $((s0 + 2)) ] ||
	nok "b. setup: fe1 appends two" "$(code c1) $(code c2), head $(head_size)"
for i in $(seq 1 50); do [ "$(ck_size "$RO")" = $((s0 + 2)) ] && break; sleep 0.2; done
$CURL "$RO/checkpoint" >rob
[ "$(sed -n 2p rob)" = $((s0 + 2)) ] || nok "b. setup: ro follows to $((s0 + 2))" "$(sed -n 2p rob)"
q "DELETE FROM mlledger_entries WHERE seq >= $s0;
   DELETE FROM mlledger_checkpoints WHERE size > $s0;
   UPDATE mlledger_head SET size = $s0, last_leaf = e.leaf, last_time = e.time_us
     FROM mlledger_entries e WHERE e.seq = $((s0 - 1))" >/dev/null ||
	nok "b. the last two rows deleted" "SQL failed"
bad=
for i in 1 2; do
	sign c3_$i
	post "$F1" c3_$i.env c3_$i
	[ "$(code c3_$i)" = 500 ] && grep -q "disagree.*shorter" c3_$i.body || bad="$bad $(code c3_$i):$(head -c 200 c3_$i.body)"
done
[ -z "$bad" ] && [ "$(head_size)" = "$s0" ] &&
	ok "b. a store shorter than fe1's copy: every append 500 ('disagree', 'shorter'), nothing written" ||
	nok "b. a store shorter than fe1's copy: fe1 refuses" "$bad; head $(head_size), want $s0"
sign d1
sign d2
post "$F2" d1.env d1
post "$F2" d2.env d2
[ "$(code d1)" = 200 ] && [ "$(code d2)" = 200 ] && [ "$(index_of d1)" = "$s0" ] &&
	ok "b. fe2, which never held them, appends at $s0 and on" ||
	nok "b. fe2 appends at $s0" "$(code d1) $(code d2) $(head -c 200 d1.body)"
sign c4
post "$F1" c4.env c4
[ "$(code c4)" = 500 ] && grep -q "disagree.*another last entry" c4.body &&
	[ "$(head_size)" = $((s0 + 2)) ] &&
	ok "b. at the same size with another last entry fe1 still refuses (500, 'another last entry')" ||
	nok "b. same size, another last entry: fe1 refuses" "$(code c4) $(head -c 200 c4.body)"
[ "$(q "SELECT count(*) FROM mlledger_entries WHERE envelope = decode('$(od -An -tx1 -v c4.env | tr -d ' \n')', 'hex')")" = 0 ] &&
	ok "b. fe1's refused envelope is not in the store" || nok "b. c4 not stored" "it is"

sleep 1
$CURL "$RO/checkpoint" >cpi
$CURL "$F2/checkpoint" >cp2
[ "$(sed -n 2p cp2)" = $((s0 + 2)) ] && cmp -s cpi rob && grep -q "fork" ro.log &&
	ok "b. ro, which had followed the lost entries, keeps its checkpoint, not the store's other root at $((s0 + 2))" ||
	nok "b. ro keeps its checkpoint after the loss" "ro $(sed -n 2p cpi), fe2 $(sed -n 2p cp2): $(tail -1 ro.log)"

# SIGTERM: each stops, exit 0, within serve_stop's 10 s (fe2's follower
# sleeps 60 s between reads: the stop must not wait for it)
bad=
for f in fe1 fe2 ro; do
	t0=$(date +%s)
	serve_stop $f
	[ "$SERVE_RC" = 0 ] && [ $(($(date +%s) - t0)) -le 5 ] || bad="$bad $f:exit=$SERVE_RC,$(($(date +%s) - t0))s"
done
[ -z "$bad" ] && ok "SIGTERM: the three front-ends stop within 5 s, exit 0" ||
	nok "SIGTERM: the front-ends stop within 5 s, exit 0" "$bad"
[ -n "${TAMPER_DEBUG:-}" ] && tail -n 20 "$W"/*.log >&2
if grep -l "Sanitizer\|runtime error" "$W"/*.log >/dev/null 2>&1; then
	nok "no sanitizer report in the servers' logs" "$(grep -h -m3 "Sanitizer\|runtime error" "$W"/*.log)"
else
	ok "no sanitizer report in the servers' logs"
fi
finish
