#!/bin/sh
# tests/cli/backup.sh — contrib/mlledger-backup.sh against a served ledger.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/backup.sh
#
# A copy taken while serve appends verifies and holds at least what was
# acknowledged before it began; a source that does not verify leaves no
# copy and fails (exit 4); old copies are pruned, the newest never; bad
# settings are exit 2.  Needs sqlite3 and curl.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/backup.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" backup
. "$here/serverlib.sh"
if ! command -v sqlite3 >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	nok "environment" "needs sqlite3 and curl (apt-get install sqlite3 curl)"
	finish
	exit 1
fi
BK=$here/../../contrib/mlledger-backup.sh
CURL="curl -sS --max-time 20"
export MLLEDGER="$M"

for k in admin eng; do "$M" key new $k >/dev/null || exit 1; done
"$M" --ledger "$W/l.db" init --key admin.key >/dev/null || exit 1
"$M" --ledger "$W/l.db" key enroll eng.pub --holder-key eng.key --role engineer --key admin.key \
	>/dev/null || exit 1
for i in $(seq 1 40); do
	"$M" --ledger "$W/l.db" sign dataset "d$i@1" --digest \
		"sha256:$(printf 'd%s' "$i" | sha256sum | cut -c1-64)" --key eng.key --out "d$i.dsse" \
		>/dev/null || echo "setup: sign d$i failed" >&2
done
serve_start s "$W/l.db" || { nok "serve starts" "did not"; finish; exit 1; }
U=$SERVE_URL
for i in $(seq 1 10); do $CURL -o /dev/null --data-binary @"d$i.dsse" "$U/add"; done
acked=$($CURL "$U/checkpoint" | sed -n 2p)
mkdir bk
# appends keep arriving while the copy is taken
( for i in $(seq 11 40); do $CURL -o /dev/null --data-binary @"d$i.dsse" "$U/add"; done ) &
feeder=$!
MLLEDGER_LEDGER="$W/l.db" BACKUP_DIR="$W/bk" sh "$BK" >out 2>err
rc=$?
wait "$feeder"
copy=$(ls bk/ledger-*.db 2>/dev/null | head -1)
[ "$rc" = 0 ] && [ -n "$copy" ] && ok "a copy is taken while serve appends (exit 0)" ||
	nok "a copy is taken while serve appends (exit 0)" "exit $rc: $(head -c 300 err)"
expect 0 "the copy verifies on its own (no log key beside it)" "" "$M" --ledger "$copy" verify
size=$("$M" --ledger "$copy" checkpoint 2>/dev/null | sed -n 2p)
[ -n "$size" ] && [ "$size" -ge "$acked" ] && ok "the copy holds everything acknowledged before it began ($size >= $acked)" ||
	nok "the copy holds everything acknowledged before it began" "size '$size', acked $acked"
[ "$(stat -c %a "$copy")" = 600 ] && ok "the copy is 0600" || nok "the copy is 0600" "$(stat -c %a "$copy")"
ls -a bk | grep -q '^\.ledger-' && nok "no temporary file is left" "$(ls -a bk)" || ok "no temporary file is left"

# pruning: a 40-day-old copy goes, the newest stays
touch -d '40 days ago' bk/ledger-20000101T000000Z.db
cp "$copy" bk/ledger-20000102T000000Z.db && touch -d '2 days ago' bk/ledger-20000102T000000Z.db
sleep 1
MLLEDGER_LEDGER="$W/l.db" BACKUP_DIR="$W/bk" KEEP_DAYS=30 sh "$BK" >out 2>err ||
	nok "a second copy" "$(head -c 300 err)"
[ ! -e bk/ledger-20000101T000000Z.db ] && [ -e bk/ledger-20000102T000000Z.db ] &&
	[ "$(ls bk | grep -c -v '^ledger-2000')" -ge 2 ] &&
	ok "copies older than KEEP_DAYS are pruned, younger ones kept" ||
	nok "copies older than KEEP_DAYS are pruned, younger ones kept" "$(ls bk)"
MLLEDGER_LEDGER="$W/l.db" BACKUP_DIR="$W/bk" KEEP_DAYS=0 sh "$BK" >out 2>err
n=$(ls bk/ledger-*.db | wc -l)
[ "$n" -ge 1 ] && ok "KEEP_DAYS=0 never removes the copy just made" || nok "KEEP_DAYS=0 never removes the copy just made" "$n left"

# a source that does not verify: no copy, exit 4
sqlite3 "$W/l.db" ".backup bad.db"
for t in $(sqlite3 bad.db "SELECT name FROM sqlite_master WHERE type = 'trigger'"); do
	sqlite3 bad.db "DROP TRIGGER \"$t\""
done
sqlite3 bad.db "UPDATE entry_index SET version = '2' WHERE seq = 3"
mkdir bk2
expect 4 "a ledger that does not verify: exit 4" "does not verify" \
	env MLLEDGER_LEDGER="$W/bad.db" BACKUP_DIR="$W/bk2" sh "$BK"
[ -z "$(ls -A bk2)" ] && ok "... and nothing is left in the backup folder" || nok "... and nothing is left in the backup folder" "$(ls -A bk2)"
expect 2 "no MLLEDGER_LEDGER: exit 2" "MLLEDGER_LEDGER" env -u MLLEDGER_LEDGER BACKUP_DIR="$W/bk" sh "$BK"
expect 2 "a missing backup folder: exit 2" "no such folder" \
	env MLLEDGER_LEDGER="$W/l.db" BACKUP_DIR="$W/nowhere" sh "$BK"
expect 2 "KEEP_DAYS not a number: exit 2" "KEEP_DAYS" \
	env MLLEDGER_LEDGER="$W/l.db" BACKUP_DIR="$W/bk" KEEP_DAYS=3d sh "$BK"
serve_stop s
[ "${SERVE_RC:-1}" = 0 ] && ok "serve stops cleanly" || nok "serve stops cleanly" "exit ${SERVE_RC:-?}"
finish
