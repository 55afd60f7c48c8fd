#!/bin/sh
# contrib/mlledger-backup.sh — a consistent, verified copy of a ledger that
# `mlledger serve` keeps appending to, with no key on the host beyond the
# log key serve already has (README "Running a ledger server", Backups).
# mlledger-backup.service runs it from mlledger-backup.timer.
#
#   MLLEDGER_LEDGER=/var/lib/mlledger/ledger.db BACKUP_DIR=/var/backups/mlledger \
#       [KEEP_DAYS=30] [MLLEDGER=mlledger] sh mlledger-backup.sh
#
# 1. SQLite's online backup (`sqlite3 .backup`) copies the ledger as of one
#    moment while serve appends (readers never block the writer in WAL mode);
# 2. `mlledger verify` checks the whole copy (every signature, link, rule and
#    checkpoint: it needs no secret); a copy that does not verify is removed
#    and the script fails (exit 4), so a broken ledger never replaces good
#    backups;
# 3. the copy is renamed into place as ledger-YYYYMMDDTHHMMSSZ.db, and
#    copies older than KEEP_DAYS days are removed (the newest always stays).
# The secret log key is not copied: keep it once, encrypted and offline.
# For auditors, `mlledger export` makes a signed bundle from such a copy.
# Exit 0, or the failing step's status (2 usage, 4 verify, 5 copy).
set -u
: "${MLLEDGER_LEDGER:?set MLLEDGER_LEDGER to the ledger}"
: "${BACKUP_DIR:?set BACKUP_DIR to the backup folder}"
KEEP_DAYS=${KEEP_DAYS:-30}
MLLEDGER=${MLLEDGER:-mlledger}
case $KEEP_DAYS in '' | *[!0-9]*) echo "mlledger-backup: KEEP_DAYS: not a number" >&2; exit 2 ;; esac
[ -f "$MLLEDGER_LEDGER" ] || { echo "mlledger-backup: $MLLEDGER_LEDGER: no such ledger" >&2; exit 2; }
[ -d "$BACKUP_DIR" ] || { echo "mlledger-backup: $BACKUP_DIR: no such folder" >&2; exit 2; }
case $BACKUP_DIR in *"'"*) echo "mlledger-backup: BACKUP_DIR may not hold a quote" >&2; exit 2 ;; esac
stamp=$(date -u +%Y%m%dT%H%M%SZ)
tmp="$BACKUP_DIR/.ledger-$stamp.$$.db"
final="$BACKUP_DIR/ledger-$stamp.db"
trap 'rm -f "$tmp" "$tmp-wal" "$tmp-shm" "$tmp-journal"' EXIT
umask 077
if ! sqlite3 -bail "$MLLEDGER_LEDGER" ".backup '$tmp'" 2>"$tmp.err"; then
	echo "mlledger-backup: copying $MLLEDGER_LEDGER failed: $(head -c 300 "$tmp.err")" >&2
	rm -f "$tmp.err"
	exit 5
fi
rm -f "$tmp.err"
if ! out=$("$MLLEDGER" --ledger "$tmp" verify 2>&1); then
	echo "mlledger-backup: the copy does not verify (kept nothing): $out" >&2
	exit 4
fi
mv "$tmp" "$final" || exit 5
echo "mlledger-backup: $final: $out"
# Prune: copies older than KEEP_DAYS, never the one just made.
find "$BACKUP_DIR" -maxdepth 1 -name 'ledger-*.db' -type f -mtime +"$KEEP_DAYS" \
	! -name "ledger-$stamp.db" -exec rm -f {} + 2>/dev/null
exit 0
