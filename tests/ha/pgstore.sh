#!/bin/bash
# tests/ha/pgstore.sh — the PostgreSQL store of record (src/pgstore.c)
# against a real primary and synchronous standby (pglib.sh): runs the
# cmocka test build/tests/test_pgstore with ML_TEST_PG_URL, and with
# ML_TEST_PG_CTL so that it can stop and start the standby, and (its last
# case) kill the primary and promote the standby.
#
#   PGSTORE_TEST=/abs/test_pgstore bash tests/ha/pgstore.sh
#
# Skipped (exit 0, a notice) when PostgreSQL cannot run here.  Bounded:
# the test program gets HA_TIMEOUT seconds (default 120).
set -u
here=$(cd "$(dirname "$0")" && pwd)
T=${PGSTORE_TEST:-$here/../../build/tests/test_pgstore}
. "$here/pglib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-pgstore.XXXXXX") || exit 1
trap 'pg_cluster_stop; cd / && rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
[ -x "$T" ] || { echo "pgstore.sh: $T not built (make $T)" >&2; exit 1; }
pg_cluster_start "$W"
rc=$?
if [ $rc = 2 ]; then
	echo "ok - pgstore # SKIP PostgreSQL cannot run here"
	exit 0
fi
[ $rc = 0 ] || { echo "not ok - pgstore: the cluster did not start"; exit 1; }
ML_TEST_PG_URL=$PG_URL ML_TEST_PG_URL_MULTI=$PG_URL_MULTI ML_TEST_PG_URL_STANDBY=$PG_URL_STANDBY \
	ML_TEST_PG_CTL="bash $here/pglib.sh" \
	timeout "${HA_TIMEOUT:-120}" "$T"
rc=$?
[ $rc = 0 ] && echo "ok - pgstore" || echo "not ok - pgstore: test_pgstore exit $rc"
exit $rc
