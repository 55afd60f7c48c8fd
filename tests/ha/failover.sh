#!/bin/bash
# tests/ha/failover.sh — the primary dies, a standby is promoted, and
# nothing acknowledged is lost.  Issue 14's failover test:
#
#   MLLEDGER=/abs/path/to/mlledger bash tests/ha/failover.sh [RUNS]
#
# Each run (RUNS, default FAILOVER_RUNS or 10) starts a primary and two
# synchronous standbys (ANY 1 (s1, s2); copies of one template cluster, as
# the postgres user, on 127.0.0.1 at ports the kernel picked) and two
# writer front-ends (`serve --store` with the three hosts and
# target_session_attrs=read-write).  Two verifying clients
# (tests/ha/ha_client.py) submit entries to both front-ends and log every
# acknowledgement; at a random moment the primary gets SIGKILL; the most
# advanced standby is promoted and the other re-pointed at it, as a
# failover manager does; the clients retry the same envelopes until
# acknowledged.  Then, per run:
#   - every client got every entry acknowledged, and every answer verified
#     (inclusion, log signature, and consistency with the last checkpoint
#     that client held from that front-end, across the failover);
#   - the surviving store, copied out by `migrate` (every row, link,
#     signature and checkpoint root checked), holds every acknowledged
#     (seq, leaf hash), and exactly one entry per envelope (no duplicates);
#   - every checkpoint any client was given is a prefix of the surviving
#     tree: its size is not beyond it and its root is the tree's root at
#     that size (so the last signed before the failover is consistent with
#     the first after, and `prove --consistency` between them verifies);
#   - writes resumed within 10 s of the primary's death.
# Run 1 also kills a front-end with SIGKILL mid-load and restarts it.
# Bounded: FAILOVER_TIMEOUT seconds in all (default 600).  Skips (exit 0,
# with a notice) when PostgreSQL 15 cannot run here.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
HA=$(cd "$(dirname "$0")" && pwd)
. "$HA/../cli/harness.sh" failover
. "$HA/pglib.sh"
PY=/usr/bin/python3
RUNS=${1:-${FAILOVER_RUNS:-10}}
MAX_PER_CLIENT=${FAILOVER_ENTRIES:-2000}
FE_PIDS=""
fo_cleanup() {
	local p
	for p in $FE_PIDS; do kill -KILL "$p" 2>/dev/null; done
	fo_stop_nodes
	cd / && rm -rf "$W"
}
trap 'kill "$WATCHDOG" 2>/dev/null; fo_cleanup' EXIT
# (its sleep ends with it, so no pipe the caller reads stays open)
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep "${FAILOVER_TIMEOUT:-600}" & s=$!
	wait "$s" && { echo "not ok - timeout after ${FAILOVER_TIMEOUT:-600}s"; kill -TERM $$; }
) &
WATCHDOG=$!

pg_available || { echo "SKIP: failover (PostgreSQL cannot run here)"; exit 0; }

NODES="p s1 s2"
fo_stop_nodes() {
	local n pid
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	for n in $NODES; do
		[ -f "$PG_DIR/$n/postmaster.pid" ] || continue
		pg_as "$PG_BIN/pg_ctl" stop -w -t 10 -m immediate -D "$PG_DIR/$n" >/dev/null 2>&1
		pid=$(head -n 1 "$PG_DIR/$n/postmaster.pid" 2>/dev/null)
		pg_is_postgres "$pid" && kill -KILL "$pid" 2>/dev/null
	done
}
port_of() { eval echo "\$PORT_$1"; }
names_total() { # entries the clients of this run signed
	local n=0 x
	for x in $(cat "$RD"/acks.*.names 2>/dev/null); do n=$((n + x)); done
	echo "$n"
}

# ---- the ledger and the template cluster (once) -----------------------------
export MLLEDGER_LEDGER=$W/l.db
for k in admin ci; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null &&
	"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null &&
	"$M" log-key >LOG.pub || { echo "not ok - setup"; exit 1; }
cp l.db.log.key L.key && chmod 600 L.key
unset MLLEDGER_LEDGER
INITIAL=$(sqlite3 -batch l.db "SELECT count(*) FROM entries")

TEMPLATE_ROOT=$W/template
mkdir -p "$TEMPLATE_ROOT" && chmod o+x "$W" "$TEMPLATE_ROOT"
pg_cluster_start "$TEMPLATE_ROOT" >/dev/null 2>"$W/template.err"
case $? in
0) ;;
2) echo "SKIP: failover ($(head -c 200 "$W/template.err"))"; exit 0 ;;
*) echo "not ok - template cluster: $(tail -c 400 "$W/template.err")"; exit 1 ;;
esac
"$M" migrate --from l.db --to "$PG_URL" >/dev/null 2>"$W/migrate.err" ||
	{ echo "not ok - migrate into the template: $(cat "$W/migrate.err")"; exit 1; }
pg_as "$PG_BIN/pg_ctl" stop -w -t 30 -m fast -D "$PG_DIR/primary" >/dev/null &&
	pg_as "$PG_BIN/pg_ctl" stop -w -t 30 -m fast -D "$PG_DIR/standby" >/dev/null ||
	{ echo "not ok - template stop"; exit 1; }
TEMPLATE=$PG_DIR/primary

# fo_start RUNDIR: p, s1, s2 from the template, streaming with two
# synchronous standbys; sets PG_DIR, PORT_p, PORT_s1, PORT_s2.
fo_start() {
	local n i c
	PG_DIR=$1/pg
	mkdir -p "$PG_DIR/sock" && chmod o+x "$1" && chown -R postgres "$PG_DIR" || return 1
	for n in $NODES; do
		eval "PORT_$n=$(pg_free_port)"
		cp -a "$TEMPLATE" "$PG_DIR/$n" || return 1
		rm -f "$PG_DIR/$n/postmaster.pid" "$PG_DIR/$n/standby.signal"
		{
			echo "port = $(port_of "$n")"
			echo "unix_socket_directories = '$PG_DIR/sock'"
			echo "primary_conninfo = ''"
		} >>"$PG_DIR/$n/postgresql.auto.conf"
	done
	for n in s1 s2; do
		echo "primary_conninfo = 'host=127.0.0.1 port=$PORT_p user=postgres application_name=$n'" \
			>>"$PG_DIR/$n/postgresql.auto.conf"
		touch "$PG_DIR/$n/standby.signal"
		chown postgres "$PG_DIR/$n/standby.signal" "$PG_DIR/$n/postgresql.auto.conf"
	done
	for n in $NODES; do
		pg_as "$PG_BIN/pg_ctl" start -w -t 30 -D "$PG_DIR/$n" -l "$PG_DIR/$n.log" \
			>/dev/null || { tail -5 "$PG_DIR/$n.log"; return 1; }
	done
	for i in $(seq 1 150); do
		c=$(pg_sql "$PORT_p" "SELECT count(*) FROM pg_stat_replication
			WHERE state = 'streaming' AND sync_state IN ('sync','quorum')" 2>/dev/null)
		[ "${c:-0}" = 2 ] && return 0
		sleep 0.2
	done
	echo "two synchronous standbys did not stream"
	return 1
}

# fo_failover: promotes the standby that received the most WAL and
# re-points the other at it (prints the promoted one's name).
fo_failover() {
	local a b best other
	a=$(pg_sql "$PORT_s1" "SELECT pg_last_wal_receive_lsn()")
	b=$(pg_sql "$PORT_s2" "SELECT pg_last_wal_receive_lsn()")
	best=s1 other=s2
	if [ "$(pg_sql "$PORT_s1" "SELECT '$b'::pg_lsn > '$a'::pg_lsn")" = t ]; then
		best=s2 other=s1
	fi
	pg_as "$PG_BIN/pg_ctl" promote -w -t 30 -D "$PG_DIR/$best" >/dev/null || return 1
	pg_sql "$(port_of $other)" "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=$(port_of $best) user=postgres application_name=$other'" &&
		pg_sql "$(port_of $other)" "SELECT pg_reload_conf()" >/dev/null || return 1
	echo "$best"
}

fe_start() { # NAME URL [PORT]: a writer front-end; sets FE_URL_<NAME>
	local name=$1 i
	rm -f "$RD/$name.url"
	"$M" serve --listen "127.0.0.1:${3:-0}" --ready-file "$RD/$name.url" --ledger "$RD/$name.db" \
		--store "$2" --log-key "$W/L.key" 2>>"$RD/$name.log" &
	eval "FE_PID_$name=$!"
	FE_PIDS="$FE_PIDS $!"
	for i in $(seq 1 300); do
		[ -s "$RD/$name.url" ] && { eval "FE_URL_$name=$(cat "$RD/$name.url")"; return 0; }
		kill -0 "$(eval echo "\$FE_PID_$name")" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
fe_kill() { local p; p=$(eval echo "\$FE_PID_$1"); kill -"${2:-TERM}" "$p" 2>/dev/null; wait "$p" 2>/dev/null; }

# fo_check RUN KILL_T PROMOTED PROMOTED_T: the assertions above, on the
# surviving store (PROMOTED_T: when the promotion had completed).
fo_check() {
	local run=$1 url acks
	url="postgresql://mlledger@127.0.0.1:$(port_of "$3")/ledger"
	# one more append so that the latest stored checkpoint covers everything
	if ! "$M" record dataset "final-$run@1" --digest "sha256:$(printf '%064d' "$run")" \
		--key "$W/ci.key" --server "$FE_URL_fe1" --log-key "$W/LOG.pub" \
		--state "$RD/cli.state" --mirror "$RD/cli.mirror.db" >/dev/null 2>"$RD/final.err"; then
		nok "run $run: an append after the failover" "$(head -c 300 "$RD/final.err")"
		return
	fi
	if ! "$M" migrate --from "$url" --to "$RD/check.db" >/dev/null 2>"$RD/check.err"; then
		nok "run $run: the surviving store checks" "$(head -c 300 "$RD/check.err")"
		return
	fi
	"$M" --ledger "$RD/check.db" verify >/dev/null 2>"$RD/verify.err" &&
		ok "run $run: the surviving store verifies" ||
		nok "run $run: the surviving store verifies" "$(head -c 300 "$RD/verify.err")"
	acks=$(cat "$RD"/acks.? | wc -l)
	if $PY - "$RD/check.db" "$2" "$INITIAL" $(($(names_total) + 1)) "$4" "$RD"/acks.? \
		>"$RD/check.out" 2>&1 <<'EOF'
import hashlib, json, sqlite3, sys
db, kill_t, initial, expected = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
promoted_t = float(sys.argv[5])
leaves = [bytes(r[0]) for r in sqlite3.connect(db).execute(
    "SELECT leaf_hash FROM entries ORDER BY seq")]
def node(a, b): return hashlib.sha256(b"\x01" + a + b).digest()
def root(n):  # RFC 6962 MTH of the first n leaves
    def mth(lo, hi):
        if hi - lo == 1: return leaves[lo]
        k = 1
        while k * 2 < hi - lo: k *= 2
        return node(mth(lo, lo + k), mth(lo + k, hi))
    return mth(0, n)
bad = []
acks = [json.loads(l) for f in sys.argv[6:] for l in open(f)]
for a in acks:
    if a["seq"] >= len(leaves) or leaves[a["seq"]].hex() != a["leaf"]:
        bad.append("acknowledged entry %d (%s) is not in the surviving tree" % (a["seq"], a["leaf"][:16]))
roots = {}
for a in acks:
    roots.setdefault(a["size"], set()).add(a["root"])
for size, rs in roots.items():
    if size > len(leaves):
        bad.append("a checkpoint of size %d, beyond the surviving %d" % (size, len(leaves)))
    elif rs != {root(size).hex()}:
        bad.append("checkpoint(s) of size %d not a prefix of the surviving tree" % size)
new = len(leaves) - initial
if new != expected:
    bad.append("%d new entries, want %d (one per envelope: lost or duplicated)" % (new, expected))
before = [a["size"] for a in acks if a["t"] < kill_t]
after = [a["size"] for a in acks if a["t"] >= kill_t]
# the first answer after the promotion: committed on the new primary (an
# answer between the kill and the promotion was committed before the kill)
resumed = min((a["t"] for a in acks if a["t"] >= promoted_t), default=None)
print("acks %d, sizes checked %d, last before %s, first after %s, resumed %.2fs" % (
    len(acks), len(roots), max(before, default=0), min(after, default=0),
    (resumed - kill_t) if resumed else -1))
if not before or not after:
    bad.append("acknowledgements before the kill: %d, after: %d (both needed)" % (len(before), len(after)))
print("PAIR %d %d" % (max(before, default=0), min(after, default=0)))
print("RESUMED %.3f" % ((resumed - kill_t) if resumed else 999))
for b in bad[:10]: print("BAD " + b)
sys.exit(1 if bad else 0)
EOF
	then
		ok "run $run: all $acks acknowledgements in the surviving tree, every checkpoint a prefix of it, no duplicate ($(head -1 "$RD/check.out"))"
	else
		nok "run $run: acknowledgements against the surviving tree" "$(grep -v '^PAIR\|^RESUMED' "$RD/check.out" | head -c 600)"
	fi
	local old new t
	read -r _ old new < <(grep '^PAIR' "$RD/check.out")
	if [ "${old:-0}" -gt 0 ] && [ "${new:-0}" -ge "$old" ]; then
		if "$M" --ledger "$RD/check.db" prove --consistency "$old" --size "$new" >"$RD/cons" 2>&1; then
			ok "run $run: prove --consistency $old -> $new on the surviving store"
		else
			nok "run $run: prove --consistency $old -> $new" "$(head -c 300 "$RD/cons")"
		fi
	fi
	t=$(grep '^RESUMED' "$RD/check.out" | cut -d' ' -f2)
	RESUME_TIMES="$RESUME_TIMES $t"
	if [ "$($PY -c "print(1 if float('${t:-999}') <= 10 else 0)")" = 1 ]; then
		ok "run $run: writes resumed ${t}s after the primary's death"
	else
		nok "run $run: writes resumed within 10 s" "${t}s"
	fi
}

RESUME_TIMES=""
PROMOTE_TIMES=""
for run in $(seq 1 "$RUNS"); do
	RD=$W/run$run
	mkdir -p "$RD"
	if ! fo_start "$RD" >"$RD/start.err" 2>&1; then
		nok "run $run: cluster" "$(tail -c 400 "$RD/start.err")"
		fo_stop_nodes
		continue
	fi
	MULTI="postgresql://mlledger@127.0.0.1:$PORT_p,127.0.0.1:$PORT_s1,127.0.0.1:$PORT_s2/ledger?target_session_attrs=read-write&connect_timeout=2"
	if ! fe_start fe1 "$MULTI" || ! fe_start fe2 "$MULTI"; then
		nok "run $run: front-ends" "$(tail -c 400 "$RD"/fe*.log)"
		fo_stop_nodes
		continue
	fi
	for c in 1 2; do
		$PY "$HA/ha_client.py" --urls "$FE_URL_fe1,$FE_URL_fe2" --key "$W/ci.key" \
			--log-key "$W/LOG.pub" --state "$RD/state.$c" --prefix "r$run-c$c" \
			--count "$MAX_PER_CLIENT" --deadline 60 --out "$RD/acks.$c" \
			--stop-file "$RD/promoted" --stop-after 1.5 2>"$RD/client.$c.err" &
		eval "CPID_$c=$!"
	done
	# a kill point between 0.3 and 2.3 s into the load
	sleep "$($PY -c "import random; print('%.2f' % random.uniform(0.3, 2.3))")"
	if [ "$run" = 1 ]; then
		fe_kill fe2 KILL # mid-batch, most likely
		ok "run $run: front-end fe2 killed with SIGKILL under load"
		# on its old port: the clients were given its URL
		fe_start fe2 "$MULTI" "${FE_URL_fe2##*:}" ||
			nok "run $run: fe2 restarts" "$(tail -c 300 "$RD/fe2.log")"
		sleep 0.5
	fi
	KILL_T=$($PY -c 'import time; print(time.time())')
	pg_kill9 "$PG_DIR/p" || nok "run $run: kill the primary" "not running"
	sleep 0.5 # detection, as a failover manager would take
	P0=$($PY -c 'import time; print(time.time())')
	PROMOTED=$(fo_failover) || { nok "run $run: failover" "promotion failed"; }
	touch "$RD/promoted" # the clients go on 1.5 s more, then stop
	P1=$($PY -c 'import time; print(time.time())')
	PROMOTE_TIMES="$PROMOTE_TIMES $($PY -c "print('%.2f' % ($P1 - $P0))")"
	crc=0
	for c in 1 2; do
		wait "$(eval echo "\$CPID_$c")" || crc=$?
	done
	if [ "$crc" = 0 ]; then
		ok "run $run: both clients got every entry acknowledged and verified ($(names_total) entries)"
	else
		nok "run $run: clients" "exit $crc: $(cat "$RD"/client.*.err | head -c 400)"
	fi
	[ -n "${PROMOTED:-}" ] && fo_check "$run" "$KILL_T" "$PROMOTED" "$P1"
	fe_kill fe1
	fe_kill fe2
	FE_PIDS=""
	fo_stop_nodes
done
echo "# writes resumed after the primary's death (s):$RESUME_TIMES"
echo "# promotion (pg_ctl promote and re-pointing the other standby) (s):$PROMOTE_TIMES"
finish
