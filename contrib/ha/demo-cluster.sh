#!/usr/bin/env bash
# contrib/ha/demo-cluster.sh — the one-machine demo of mlledger's PostgreSQL
# store of record (README "High availability"): a primary and two
# synchronous standbys on loopback, for `mlledger serve --store URL`, for
# trying failover, and for the HA tests (tests/ha/demo_cluster.sh).
#
#   demo-cluster.sh start DIR     make and start the cluster in DIR (new or empty)
#   demo-cluster.sh status DIR    who is primary; pg_stat_replication per standby
#   demo-cluster.sh failover DIR  kill -9 the primary, promote a standby, re-point
#                                 the other one at it, show the status
#   demo-cluster.sh stop DIR      stop every node (idempotent)
#
# start: three PostgreSQL 15 nodes, n1 the primary, n2 and n3 standbys made
# with `pg_basebackup -R` streaming as application_name s1 and s2;
# synchronous_commit = on and synchronous_standby_names = 'ANY 1 (s1, s2)'
# (quorum: a commit waits until one of the two flushed it, so losing one
# standby does not stop writes); wal_level replica, hot_standby on.  Ports
# are free loopback ports picked at start; listen_addresses is 127.0.0.1
# only; unix sockets live in DIR/sock (mode 0700).  Database `ledger`, owned
# by role `mlledger` (LOGIN, member of pg_monitor, so a front-end can count
# synchronous standbys), whose password is generated into DIR/mlledger.password
# (0600) and written to DIR/pgpass (0600) for libpq.  DIR/env (sh syntax, to
# `.`) sets and exports:
#   PG_URL            the primary
#   PG_URL_MULTI      every node, target_session_attrs=read-write, so libpq
#                     finds whichever node is the primary (after a failover too)
#   PG_URL_STANDBY1/2 the standbys (hot, read-only)
#   PGPASSFILE        DIR/pgpass: libpq reads the password from there
# No URL holds the password.  pg_hba.conf: the mlledger role over TCP from
# 127.0.0.1 with scram-sha-256; the superuser (the OS user that runs the
# nodes) and replication over the unix socket with peer authentication;
# nothing else.
#
# failover promotes the standby that received the most WAL (s1 on a tie):
# under ANY 1 an acknowledged commit may be on only one of the two, so
# promoting the other would lose it.  The old primary's data directory is
# left as it died and marked failed: it must be rebuilt (pg_basebackup, or
# pg_rewind) before it may rejoin, never simply restarted.
#
# Run as root, the nodes run as the `postgres` user (initdb refuses root;
# DIR is given to postgres); otherwise as the current user.  Every wait is
# bounded (DEMO_TIMEOUT seconds, default 30).  Binaries from PGBIN (default
# /usr/lib/postgresql/15/bin).  Exit 0, 1 on any failure (one line on stderr
# naming DIR or the node at fault), 2 on usage.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
T=${DEMO_TIMEOUT:-30}
PROG=demo-cluster

die() { echo "$PROG: $*" >&2; exit 1; }
usage() { echo "usage: $PROG start|status|failover|stop DIR" >&2; exit 2; }

# as_pg CMD...: runs CMD as the user the nodes run as.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

# Application names of the nodes (n1 is the first primary; its name is used
# only if it is ever rebuilt as a standby).
app_name() { case $1 in 1) echo s0 ;; 2) echo s1 ;; 3) echo s2 ;; esac; }

# state_get KEY: a value of DIR/state (key=value lines, written by this script).
state_get() { sed -n "s/^$1=//p" "$D/state" | tail -n 1; }
state_set() {
	local tmp="$D/state.tmp"
	{ grep -v "^$1=" "$D/state" 2>/dev/null || true; echo "$1=$2"; } > "$tmp"
	mv "$tmp" "$D/state"
}
port_of() { state_get "port$1"; }

# psql_node N SQL: runs SQL as the superuser on node N over its unix socket;
# unaligned, tuples only.  Bounded by connect_timeout and statement_timeout.
psql_node() {
	as_pg env PGCONNECT_TIMEOUT=5 PGOPTIONS="-c statement_timeout=${T}s" \
		"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$D/sock" -p "$(port_of "$1")" \
		-U "$(pg_user)" -d postgres -c "$2"
}

running() { as_pg "$PGBIN/pg_ctl" status -D "$D/n$1" >/dev/null 2>&1; }

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line.
free_ports() {
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# wait_for SECONDS DESC CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
	local secs=$1 desc=$2 i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le $((secs * 5)) ] || die "$D: timed out after ${secs}s waiting for $desc"
		sleep 0.2
	done
}

# streaming_count N: the number of standbys of node N streaming
# synchronously (sync_state sync or quorum).
streaming_count() {
	psql_node "$1" "SELECT count(*) FROM pg_stat_replication
	                WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')"
}
has_sync_standbys() { [ "$(streaming_count "$1")" -ge "$2" ]; }

write_env() {
	local p=$1 s1=$2 s2=$3 multi
	url_node() { echo "postgresql://mlledger@127.0.0.1:$(port_of "$1")/ledger"; }
	multi="postgresql://mlledger@127.0.0.1:$(port_of 1),127.0.0.1:$(port_of 2),127.0.0.1:$(port_of 3)/ledger?target_session_attrs=read-write"
	{
		echo "# written by contrib/ha/demo-cluster.sh; the password is in PGPASSFILE"
		echo "PG_URL='$(url_node "$p")'"
		echo "PG_URL_MULTI='$multi'"
		echo "PG_URL_STANDBY1='$([ -n "$s1" ] && url_node "$s1")'"
		echo "PG_URL_STANDBY2='$([ -n "$s2" ] && url_node "$s2")'"
		echo "PGPASSFILE='$D/pgpass'"
		echo "export PG_URL PG_URL_MULTI PG_URL_STANDBY1 PG_URL_STANDBY2 PGPASSFILE"
	} > "$D/env.tmp"
	chmod 0644 "$D/env.tmp"
	mv "$D/env.tmp" "$D/env"
}

# The settings every node shares (appended to postgresql.conf of n1 before
# the standbys copy it); each node then gets its own port line.
cluster_conf() {
	cat <<EOF

# ---- contrib/ha/demo-cluster.sh ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$D/sock'
unix_socket_permissions = 0700
wal_level = replica
hot_standby = on
max_wal_senders = 10
wal_keep_size = '256MB'
synchronous_commit = on
synchronous_standby_names = 'ANY 1 (s1, s2)'
max_connections = 40
shared_buffers = '16MB'
password_encryption = 'scram-sha-256'
log_min_error_statement = panic
EOF
}

hba_conf() {
	cat <<EOF
# contrib/ha/demo-cluster.sh: nothing but these (first match wins).
# TYPE  DATABASE     USER      ADDRESS        METHOD
host    ledger       mlledger  127.0.0.1/32   scram-sha-256
local   all          $(pg_user)                    peer
local   replication  $(pg_user)                    peer
EOF
}

start_node() {
	as_pg "$PGBIN/pg_ctl" start -w -t "$T" -D "$D/n$1" -l "$D/n$1.log" >/dev/null ||
		die "$D/n$1: did not start (see $D/n$1.log)"
}

cmd_start() {
	local u p1 p2 p3 n
	u=$(pg_user)
	[ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb: not found (apt-get install postgresql-15, or set PGBIN)"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "no postgres user (apt-get install postgresql-15)"
	fi
	mkdir -p "$D"
	[ -z "$(ls -A "$D")" ] || die "$D: not empty (stop it and remove it, or use a new folder)"
	chmod 0700 "$D"
	[ "$(id -u)" = 0 ] && chown postgres: "$D"
	as_pg test -w "$D" || die "$D: not writable by $u (is a parent folder closed to $u?)"
	# A unix socket path is at most 107 bytes: DIR/sock/.s.PGSQL.NNNNN.
	[ "${#D}" -le 80 ] || die "$D: path too long for a unix socket folder (80 bytes at most)"
	as_pg mkdir -m 0700 "$D/sock"
	read -r p1 p2 p3 <<<"$(free_ports 3 | tr '\n' ' ')"
	as_pg sh -c "umask 077; : > '$D/state'"
	state_set port1 "$p1"; state_set port2 "$p2"; state_set port3 "$p3"

	# The password: generated, 0600, never on a command line or in a URL.
	as_pg sh -c "umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > '$D/mlledger.password'"
	as_pg sh -c "umask 077; printf '127.0.0.1:*:ledger:mlledger:%s\n' \"\$(cat '$D/mlledger.password')\" > '$D/pgpass'"

	as_pg "$PGBIN/initdb" -D "$D/n1" -U "$u" --auth-local=peer --auth-host=reject \
		-E UTF8 --locale=C.UTF-8 >"$D/initdb.log" 2>&1 || die "$D/n1: initdb failed (see $D/initdb.log)"
	cluster_conf | as_pg tee -a "$D/n1/postgresql.conf" >/dev/null
	echo "port = $p1" | as_pg tee -a "$D/n1/postgresql.conf" >/dev/null
	hba_conf | as_pg tee "$D/n1/pg_hba.conf" >/dev/null
	start_node 1

	# Setup commits only locally: no standby exists yet to acknowledge them.
	as_pg env PGCONNECT_TIMEOUT=5 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$D/sock" -p "$p1" \
		-U "$u" -d postgres >/dev/null <<EOF || die "$D/n1: creating role mlledger and database ledger failed"
SET synchronous_commit = local;
\set pw \`cat '$D/mlledger.password'\`
CREATE ROLE mlledger LOGIN PASSWORD :'pw';
GRANT pg_monitor TO mlledger;
CREATE DATABASE ledger OWNER mlledger;
REVOKE ALL ON DATABASE ledger FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ledger TO mlledger;
EOF

	for n in 2 3; do
		as_pg env PGCONNECT_TIMEOUT=5 "$PGBIN/pg_basebackup" -D "$D/n$n" -R -X stream -c fast \
			-d "host=$D/sock port=$p1 user=$u application_name=$(app_name "$n")" \
			>"$D/basebackup-n$n.log" 2>&1 || die "$D/n$n: pg_basebackup failed (see $D/basebackup-n$n.log)"
		echo "port = $(port_of "$n")" | as_pg tee -a "$D/n$n/postgresql.conf" >/dev/null
		# -R wrote primary_conninfo; this one names the node and wins (last line).
		echo "primary_conninfo = 'host=$D/sock port=$p1 user=$u application_name=$(app_name "$n")'" |
			as_pg tee -a "$D/n$n/postgresql.auto.conf" >/dev/null
		start_node "$n"
	done
	state_set primary 1
	state_set standbys "2 3"
	state_set failed ""
	wait_for "$T" "2 synchronous standbys streaming to n1" has_sync_standbys 1 2
	write_env 1 2 3
	echo "$PROG: started in $D: primary n1 on 127.0.0.1:$p1, standbys s1 (n2) :$p2 and s2 (n3) :$p3"
	echo "$PROG: . $D/env   # PG_URL, PG_URL_MULTI, PG_URL_STANDBY1/2, PGPASSFILE"
}

need_cluster() {
	[ -f "$D/state" ] || die "$D: no demo cluster here (no state file)"
}

cmd_status() {
	local p n
	need_cluster
	p=$(state_get primary)
	for n in 1 2 3; do
		if running "$n"; then
			echo "n$n 127.0.0.1:$(port_of "$n") running, in recovery: $(psql_node "$n" "SELECT pg_is_in_recovery()")"
		else
			echo "n$n 127.0.0.1:$(port_of "$n") stopped$(case " $(state_get failed) " in *" $n "*) echo ' (failed: rebuild before reuse)' ;; esac)"
		fi
	done
	running "$p" || die "$D/n$p: the primary is not running"
	echo "primary n$p; pg_stat_replication:"
	as_pg env PGCONNECT_TIMEOUT=5 "$PGBIN/psql" -X -h "$D/sock" -p "$(port_of "$p")" -U "$(pg_user)" -d postgres \
		-c "SELECT application_name, state, sync_state, sync_priority,
		           pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) AS flush_lag_bytes,
		           pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS replay_lag_bytes,
		           replay_lag
		      FROM pg_stat_replication ORDER BY application_name" ||
		die "$D/n$p: cannot read pg_stat_replication"
}

# received_lsn_diff A B: bytes of WAL standby A received beyond standby B.
received_lsn_diff() {
	local a b
	a=$(psql_node "$1" "SELECT pg_last_wal_receive_lsn()")
	b=$(psql_node "$2" "SELECT pg_last_wal_receive_lsn()")
	[ -n "$a" ] || a=$(psql_node "$1" "SELECT pg_last_wal_replay_lsn()")
	[ -n "$b" ] || b=$(psql_node "$2" "SELECT pg_last_wal_replay_lsn()")
	psql_node "$1" "SELECT pg_wal_lsn_diff('$a', '$b')"
}

# kill9 N: SIGKILL to node N's postmaster and all its children at once, as
# when the host dies.
kill9() {
	local pm kids
	pm=$(as_pg head -n 1 "$D/n$1/postmaster.pid")
	case $pm in '' | *[!0-9]*) die "$D/n$1: no postmaster pid" ;; esac
	kids=$(ps -o pid= --ppid "$pm" | tr -d ' ' | tr '\n' ' ')
	# shellcheck disable=SC2086
	kill -9 "$pm" $kids 2>/dev/null || true
	dead() { ! kill -0 "$pm" 2>/dev/null; }
	wait_for "$T" "n$1 to die" dead
}

cmd_failover() {
	local p a b new other u diff
	need_cluster
	u=$(pg_user)
	p=$(state_get primary)
	read -r a b <<<"$(state_get standbys)"
	{ [ -n "$a" ] && [ -n "$b" ]; } || die "$D: failover needs two standbys (one failover per demo cluster)"
	{ running "$a" && running "$b"; } || die "$D: a standby is not running"
	running "$p" || die "$D/n$p: the primary is not running"
	echo "$PROG: kill -9 of the primary n$p"
	kill9 "$p"
	# Promote the standby with the most WAL: under ANY 1 an acknowledged
	# commit may have reached only one of them.
	diff=$(received_lsn_diff "$a" "$b")
	if [ "${diff%%.*}" -lt 0 ]; then new=$b other=$a; else new=$a other=$b; fi
	echo "$PROG: promoting n$new ($(app_name "$new"), WAL received: $diff bytes beyond n$( [ "$new" = "$a" ] && echo "$b" || echo "$a"))"
	as_pg "$PGBIN/pg_ctl" promote -w -t "$T" -D "$D/n$new" >/dev/null || die "$D/n$new: promote failed"
	state_set primary "$new"
	state_set standbys "$other"
	state_set failed "$p"
	write_env "$new" "$other" ""
	echo "$PROG: re-pointing n$other ($(app_name "$other")) at n$new"
	psql_node "$other" "ALTER SYSTEM SET primary_conninfo =
		'host=$D/sock port=$(port_of "$new") user=$u application_name=$(app_name "$other")'" >/dev/null ||
		die "$D/n$other: cannot set primary_conninfo"
	as_pg "$PGBIN/pg_ctl" restart -w -t "$T" -m fast -D "$D/n$other" -l "$D/n$other.log" >/dev/null ||
		die "$D/n$other: restart failed (see $D/n$other.log)"
	wait_for "$T" "n$other to stream synchronously from n$new" has_sync_standbys "$new" 1
	cmd_status
}

cmd_stop() {
	local n
	[ -d "$D" ] || return 0
	[ -f "$D/state" ] || return 0
	for n in 1 2 3; do
		[ -d "$D/n$n" ] || continue
		running "$n" || continue
		as_pg "$PGBIN/pg_ctl" stop -w -t "$T" -m fast -D "$D/n$n" >/dev/null 2>&1 ||
			as_pg "$PGBIN/pg_ctl" stop -w -t "$T" -m immediate -D "$D/n$n" >/dev/null 2>&1 ||
			die "$D/n$n: did not stop"
	done
	echo "$PROG: stopped $D"
}

[ $# -eq 2 ] || usage
case $2 in /*) D=$2 ;; *) D=$PWD/$2 ;; esac
D=${D%/}
# DIR goes into config files and connection strings: plain bytes only.
case $D in *[!A-Za-z0-9._/-]*) die "$D: use only letters, digits and . _ / - in DIR" ;; esac
case $1 in
start) cmd_start ;;
status) cmd_status ;;
failover) cmd_failover ;;
stop) cmd_stop ;;
*) usage ;;
esac
