#!/bin/bash
# tests/ha/standby_lost.sh — the synchronous standby goes away: writes are
# refused (503) rather than acknowledged unreplicated, and resume when it
# returns; nothing acknowledged meanwhile is missing from the standby.
#
#   MLLEDGER=/abs/path/to/mlledger bash tests/ha/standby_lost.sh
#
# Its own primary + synchronous standby (tests/ha/pglib.sh, as the postgres
# user, 127.0.0.1, ports the kernel picked), always stopped on exit; skips
# (exit 0) when PostgreSQL 15 cannot run here.  Two writer front-ends: fe1
# with the default --min-sync-standbys 1 (refuses at once), fe0 with 0
# (PostgreSQL's own wait: mlledger cancels it after the commit timeout, and
# the "already committed locally" warning must count as a failure).
# Bounded: STANDBY_TIMEOUT seconds (default 180).

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
HA=$(cd "$(dirname "$0")" && pwd)
unset ML_TEST_STORE
. "$HA/../cli/harness.sh" standby
. "$HA/../cli/serverlib.sh"
. "$HA/pglib.sh"
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep "${STANDBY_TIMEOUT:-180}" & s=$!
	wait "$s" && { echo "not ok - timeout after ${STANDBY_TIMEOUT:-180}s"; kill -TERM $$; }
) &
WATCHDOG=$!
trap 'kill "$WATCHDOG" 2>/dev/null; serve_stop fe1; serve_stop fe0; serve_stop_all; pg_cluster_stop; cd / && rm -rf "$W"' EXIT
pg_cluster_start "$W" >/dev/null 2>cluster.err
case $? in
0) ;;
2) echo "ok - standby_lost # SKIP PostgreSQL cannot run here: $(head -c 200 cluster.err)"; exit 0 ;;
*) nok "cluster" "$(tail -c 300 cluster.err)"; finish; exit 1 ;;
esac
CURL="curl -s --max-time 30"
q() { # SQL on PORT ($1) in database ledger, as the superuser
	pg_as "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_DIR/sock" -p "$1" \
		-U postgres -d ledger -c "$2"
}
post() { # URL FILE NAME: POST /add; NAME.code, NAME.body, NAME.hdr
	$CURL -D "$3.hdr" -o "$3.body" -w '%{http_code}' --data-binary @"$2" "$1/add" >"$3.code"
}
code() { cat "$1.code"; }
env_new() { # NAME: a signed dataset envelope NAME.env
	"$M" --ledger l.db sign dataset "$1@1" --digest "sha256:$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)" \
		--key ci.key --out "$1.env" >/dev/null 2>&1
}
leaf_of() { # BODY: the leaf of an acknowledged entry is in the store; prints its seq
	sed -n 's/^index \([0-9]*\)$/\1/p' "$1"
}

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null &&
	"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null ||
	{ nok "setup" "init"; finish; exit 1; }
unset MLLEDGER_LEDGER
"$M" migrate --from l.db --to "$PG_URL" >/dev/null 2>migrate.err ||
	{ nok "setup" "$(cat migrate.err)"; finish; exit 1; }
serve_start fe1 "$W/fe1.db" --store "$PG_URL" --log-key "$W/l.db.log.key" || { finish; exit 1; }
FE1=$SERVE_URL
serve_start fe0 "$W/fe0.db" --store "$PG_URL" --log-key "$W/l.db.log.key" \
	--min-sync-standbys 0 || { finish; exit 1; }
FE0=$SERVE_URL
for n in a b c d e f; do env_new $n || { nok "setup" "sign $n"; finish; exit 1; }; done

post "$FE1" a.env a
[ "$(code a)" = 200 ] && ok "with the standby streaming, an append is acknowledged" ||
	nok "append with the standby" "$(code a) $(head -c 200 a.body)"

pg_standby_stop || nok "standby stop" "failed"
before=$(q "$PG_PRIMARY_PORT" "SELECT size FROM mlledger_head")
post "$FE1" b.env b
if [ "$(code b)" = 503 ] && grep -qi "retry-after" b.hdr && grep -q "no synchronous standby" b.body; then
	ok "no synchronous standby: 503 with Retry-After, naming why"
else
	nok "no standby: 503" "$(code b) $(head -c 300 b.body)"
fi
[ "$(q "$PG_PRIMARY_PORT" "SELECT size FROM mlledger_head")" = "$before" ] &&
	ok "no standby: nothing written to the store" ||
	nok "no standby: nothing written" "head moved from $before"

# --min-sync-standbys 0: PostgreSQL itself waits for the standby named in
# synchronous_standby_names; mlledger cancels the wait after its timeout,
# and PostgreSQL answers COMMIT with success plus the warning.
t0=$(date +%s)
post "$FE0" c.env c
t1=$(date +%s)
if [ "$(code c)" = 503 ] && grep -q "replicat" c.body; then
	ok "min-sync 0, no standby: the cancelled wait is a failure (503 after $((t1 - t0)) s): $(head -c 120 c.body)"
else
	nok "cancelled sync wait is a failure" "$(code c) $(head -c 300 c.body)"
fi
c_rows=$(q "$PG_PRIMARY_PORT" "SELECT count(*) FROM mlledger_entries WHERE seq >= $before")
[ "$c_rows" -ge 1 ] &&
	ok "... although the row is on the primary (committed locally): the trap is real" ||
	nok "the trap" "no row on the primary ($c_rows): the test shows nothing"

pg_standby_start || nok "standby start" "failed"
post "$FE1" d.env d
[ "$(code d)" = 200 ] && ok "the standby back: appends acknowledged again" ||
	nok "standby back" "$(code d) $(head -c 300 d.body)"
post "$FE1" c.env c2
if [ "$(code c2)" = 200 ] && grep -qi "^mlledger-existing: 1" c2.hdr; then
	ok "the unacknowledged envelope, retried: its entry is answered as existing (no duplicate)"
else
	nok "retry of the unacknowledged envelope" "$(code c2) $(tr -d '\r' <c2.hdr | grep -i existing) $(head -c 200 c2.body)"
fi
post "$FE0" e.env e
[ "$(code e)" = 200 ] && ok "fe0 appends again too" || nok "fe0 again" "$(code e) $(head -c 200 e.body)"

# Every acknowledged entry is on the standby: promote it after killing the
# primary and compare the leaves.
acked=""
for n in a d c2 e; do acked="$acked $(leaf_of "$n.body")"; done
size=$(q "$PG_PRIMARY_PORT" "SELECT size FROM mlledger_head")
for i in $(seq 1 50); do
	[ "$(q "$PG_STANDBY_PORT" "SELECT size FROM mlledger_head" 2>/dev/null)" = "$size" ] && break
	sleep 0.2
done
pg_primary_kill9
pg_standby_promote || nok "promote" "failed"
missing=""
for s in $acked; do
	[ "$(q "$PG_STANDBY_PORT" "SELECT count(*) FROM mlledger_entries WHERE seq = $s")" = 1 ] ||
		missing="$missing $s"
done
[ -z "$missing" ] && ok "every acknowledged entry (seqs$acked) is on the promoted standby" ||
	nok "acknowledged entries on the standby" "missing:$missing"
"$M" migrate --from "$PG_URL_STANDBY" --to "$W/check.db" >/dev/null 2>check.err &&
	"$M" --ledger "$W/check.db" verify >/dev/null 2>>check.err &&
	ok "the promoted standby's ledger checks and verifies" ||
	nok "promoted standby verifies" "$(head -c 300 check.err)"
finish
