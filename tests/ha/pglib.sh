# tests/ha/pglib.sh — a throwaway PostgreSQL 15 cluster for the HA tests:
# a primary and one synchronous standby, on 127.0.0.1 only, in a folder
# the test owns.  Sourced by bash scripts:
#
#   . "$(dirname "$0")/pglib.sh"
#   trap 'pg_cluster_stop' EXIT          (extend, never drop: always stop it)
#   pg_cluster_start "$W" || exit $?     (2: skipped, with a notice on stderr)
#
#   pg_cluster_start DIR  initdb a primary in DIR/pg/primary (fsync on, small
#       shared_buffers, synchronous_commit on, synchronous_standby_names
#       'ANY 1 (s1,s2)'), a standby by pg_basebackup -R in DIR/pg/standby
#       with application_name s1, unix sockets in DIR/pg/sock, ports the
#       kernel picked; waits until the standby streams as a synchronous one.
#       Creates the role mlledger (LOGIN, pg_monitor) and its database
#       ledger.  Exports PG_PRIMARY_PORT, PG_STANDBY_PORT, PG_URL (the
#       primary), PG_URL_STANDBY, PG_URL_MULTI (both hosts,
#       target_session_attrs=read-write), PG_DIR.  Returns 0; 1 on failure
#       (the server logs on stderr); 2 when PostgreSQL cannot run here
#       (binaries missing, or not root and not able to run initdb).
#   pg_standby_stop       stops the standby (fast; the primary keeps its
#                         synchronous_standby_names, so commits wait)
#   pg_standby_start [nowait]  starts it again and waits until it streams
#                         (nowait: does not, as when the primary is dead)
#   pg_primary_kill9      SIGKILL to the primary's postmaster and children
#   pg_standby_promote    promotes the standby (it keeps the primary's
#                         synchronous_standby_names: with no standby of its
#                         own its commits wait, as they should)
#   pg_sql PORT SQL       runs SQL as the superuser over the unix socket,
#                         unaligned tuples only on stdout
#   pg_cluster_stop       stops both (immediate), whatever state they are in
#
# Every server command runs as the postgres user (runuser) when we are
# root, since initdb refuses root; as ourselves otherwise.  Every wait is
# bounded (PG_WAIT seconds, default 30).  Passwordless (trust) on loopback
# and the socket folder only: test clusters, never a template for real ones.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_WAIT=${PG_WAIT:-30}
PG_DIR=${PG_DIR:-}
PG_PRIMARY_PORT=${PG_PRIMARY_PORT:-} PG_STANDBY_PORT=${PG_STANDBY_PORT:-}

# pg_as CMD...: runs CMD as the cluster's owner, from /, bounded in time.
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && timeout "$PG_WAIT" runuser -u postgres -- "$@")
	else
		(cd / && timeout "$PG_WAIT" "$@")
	fi
}

# pg_free_port: a loopback TCP port the kernel has just handed out.
pg_free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_sql() {
	pg_as env PGOPTIONS="${PG_SQL_OPTIONS:-}" "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_DIR/sock" -p "$1" \
		-U postgres -d postgres -c "$2"
}

# pg_available: 0 when this user can run a cluster, else 2 with a notice.
pg_available() {
	local b
	for b in initdb pg_ctl postgres pg_basebackup psql; do
		if [ ! -x "$PG_BIN/$b" ]; then
			echo "SKIP: PostgreSQL 15 not installed ($PG_BIN/$b missing;" \
				"apt-get install postgresql-15)" >&2
			return 2
		fi
	done
	if [ "$(id -u)" = 0 ]; then
		if ! id postgres >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
			echo "SKIP: running as root without a postgres user or runuser" >&2
			return 2
		fi
	fi
	return 0
}

pg_conf() { # DATADIR PORT: the settings both nodes share, and their port
	cat >>"$1/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$PG_DIR/sock'
fsync = on
synchronous_commit = on
synchronous_standby_names = 'ANY 1 (s1,s2)'
shared_buffers = 16MB
max_connections = 40
max_wal_senders = 5
wal_level = replica
wal_keep_size = 64MB
hot_standby = on
wal_receiver_status_interval = 1s
logging_collector = off
EOF
}

pg_start_node() { # DATADIR
	pg_as "$PG_BIN/pg_ctl" start -w -t "$PG_WAIT" -D "$1" -l "$1.log" >/dev/null
}

# pg_wait_sync: waits until the primary counts a streaming synchronous standby.
pg_wait_sync() {
	local i n
	for i in $(seq 1 $((PG_WAIT * 5))); do
		n=$(pg_sql "$PG_PRIMARY_PORT" "SELECT count(*) FROM pg_stat_replication
			WHERE state = 'streaming' AND sync_state IN ('sync','quorum')" 2>/dev/null)
		[ "${n:-0}" -ge 1 ] && return 0
		sleep 0.2
	done
	echo "pglib: no synchronous standby streaming after ${PG_WAIT}s" >&2
	return 1
}

pg_fail() { # MESSAGE: prints it and the server logs, returns 1
	echo "pglib: $1" >&2
	tail -n 20 "$PG_DIR"/primary.log "$PG_DIR"/standby.log 2>/dev/null >&2
	return 1
}

pg_cluster_start() {
	local dir=$1 p
	pg_available || return 2
	PG_DIR=$(cd "$dir" && pwd)/pg
	mkdir -p "$PG_DIR/sock" || return 1
	if [ "$(id -u)" = 0 ]; then
		# postgres must reach PG_DIR: the test's folder is root's and 0700.
		chmod o+x "$dir" || return 1
		chown -R postgres "$PG_DIR" || return 1
	fi
	PG_PRIMARY_PORT=$(pg_free_port) && PG_STANDBY_PORT=$(pg_free_port) || return 1
	p=$PG_DIR/primary
	pg_as "$PG_BIN/initdb" -D "$p" -U postgres -A trust --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_conf "$p" "$PG_PRIMARY_PORT"
	cat >"$p/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
	pg_start_node "$p" || pg_fail "the primary did not start" || return 1
	# No standby yet: these commits must not wait for one.
	PG_SQL_OPTIONS="-c synchronous_commit=local" pg_sql "$PG_PRIMARY_PORT" \
		"CREATE ROLE mlledger LOGIN; GRANT pg_monitor TO mlledger" &&
		PG_SQL_OPTIONS="-c synchronous_commit=local" pg_sql "$PG_PRIMARY_PORT" \
		"CREATE DATABASE ledger OWNER mlledger" ||
		pg_fail "could not create the role and database" || return 1
	pg_as "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres \
		-D "$PG_DIR/standby" -R -X stream -c fast >/dev/null 2>"$PG_DIR/basebackup.log" ||
		{ cat "$PG_DIR/basebackup.log" >&2; return 1; }
	# The later line wins: the standby's own port and application_name s1.
	pg_as sh -c "cat >>'$PG_DIR/standby/postgresql.auto.conf'" <<EOF
port = $PG_STANDBY_PORT
primary_conninfo = 'host=127.0.0.1 port=$PG_PRIMARY_PORT user=postgres application_name=s1'
EOF
	pg_start_node "$PG_DIR/standby" || pg_fail "the standby did not start" || return 1
	pg_wait_sync || pg_fail "the standby does not stream" || return 1
	export PG_DIR PG_PRIMARY_PORT PG_STANDBY_PORT
	export PG_URL="postgresql://mlledger@127.0.0.1:$PG_PRIMARY_PORT/ledger"
	export PG_URL_STANDBY="postgresql://mlledger@127.0.0.1:$PG_STANDBY_PORT/ledger"
	export PG_URL_MULTI="postgresql://mlledger@127.0.0.1:$PG_PRIMARY_PORT,127.0.0.1:$PG_STANDBY_PORT/ledger?target_session_attrs=read-write"
	return 0
}

pg_standby_stop() {
	pg_as "$PG_BIN/pg_ctl" stop -w -t "$PG_WAIT" -m fast -D "$PG_DIR/standby" >/dev/null
}

pg_standby_start() { # [nowait]: do not wait for it to stream (no primary)
	pg_start_node "$PG_DIR/standby" || pg_fail "the standby did not start" || return 1
	[ "${1:-}" = nowait ] || pg_wait_sync
}

# pg_is_postgres PID: a live postgres process (a stale postmaster.pid's pid
# may since belong to anything).
pg_is_postgres() {
	[ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = postgres ]
}

pg_primary_kill9() { pg_kill9 "$PG_DIR/primary"; }

# pg_kill9 DATADIR: SIGKILL to that node's postmaster and its children.
pg_kill9() {
	local pid kids
	pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) || return 1
	pg_is_postgres "$pid" || return 1
	kids=$(pgrep -P "$pid")
	# shellcheck disable=SC2086
	kill -KILL "$pid" $kids 2>/dev/null
	return 0
}

pg_standby_promote() {
	pg_as "$PG_BIN/pg_ctl" promote -w -t "$PG_WAIT" -D "$PG_DIR/standby" >/dev/null
}

pg_cluster_stop() {
	local n pid
	[ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
	for n in primary standby; do
		[ -f "$PG_DIR/$n/postmaster.pid" ] || continue
		pg_as "$PG_BIN/pg_ctl" stop -w -t 10 -m immediate -D "$PG_DIR/$n" >/dev/null 2>&1
		pid=$(head -n 1 "$PG_DIR/$n/postmaster.pid" 2>/dev/null)
		pg_is_postgres "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

# Run as a command (bash tests/ha/pglib.sh standby-stop|standby-start [nowait]|
# primary-kill9|standby-promote) by a test program, with PG_DIR,
# PG_PRIMARY_PORT and PG_STANDBY_PORT from the environment.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	standby-stop) pg_standby_stop ;;
	standby-start) pg_standby_start "${2:-}" ;;
	primary-kill9) pg_primary_kill9 ;;
	standby-promote) pg_standby_promote ;;
	*) echo "usage: pglib.sh standby-stop|standby-start|primary-kill9|standby-promote" >&2
	   exit 2 ;;
	esac
fi
