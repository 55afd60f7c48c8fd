#!/bin/sh
# tests/tamper/run.sh — the tamper suite (tests/tamper/run.py says what it
# does).  MLLEDGER=/abs/path/to/mlledger sh tests/tamper/run.sh
# Runs tests/tamper/run.py with PYTHON (default /usr/bin/python3, Debian's,
# which has python3-nacl; `make deps` installs it).
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1; then
	echo "not ok - environment: $PY lacks sqlite3 or PyNaCl (run 'make deps')"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$PY" "$(dirname "$0")/run.py" "$@"
