#!/bin/sh
# tests/cli/outputs.sh — never destroy data: outputs, inputs, export.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/outputs.sh
#   sh tests/cli/outputs.sh build/mlledger
#
# Every --out refuses an existing file without --force, and refuses even
# with --force the ledger in use (by any name: ./x/../ledger.db, a hard or
# symbolic link), its -wal, -shm and -journal files, its log key, a secret
# key file and a folder that holds secret keys; a FIFO given as any input
# (--key, --policy, --passphrase-file, a governance file, an import file,
# ...) fails at once with one line instead of hanging; an export that fails
# midway (the file-size limit, as on a full disk) leaves nothing behind.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/outputs.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
[ -n "${1:-}" ] && MLLEDGER=$1
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" out
# expect here is stricter than the harness's: an extended regular expression
# on stderr, and exactly one line there when the command fails.
# expect CODE NAME PATTERN CMD...: exit CODE, stderr one line matching PATTERN
expect() {
	local want=$1 name=$2 pat=$3 got
	shift 3
	"$@" >out 2>err
	got=$?
	if [ "$got" != "$want" ]; then
		nok "$name" "exit $got, want $want: $(head -c 300 err)"
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" err; then
		nok "$name" "stderr lacks '$pat': $(head -c 300 err)"
	elif [ "$want" != 0 ] && [ "$(wc -l <err)" != 1 ]; then
		nok "$name" "want one line on stderr: $(head -c 300 err)"
	else
		ok "$name"
	fi
}
# same NAME FILE SUM: FILE still has checksum SUM
same() {
	if [ "$(cksum <"$2" 2>/dev/null)" = "$3" ]; then ok "$1"; else nok "$1" "$2 changed"; fi
}
verify_ok() {
	if "$M" verify >/dev/null 2>verr; then ok "$1"; else nok "$1" "$(head -c 300 verr)"; fi
}

mkdir -p keys l
for k in admin ci w1; do "$M" key new $k --dir keys >/dev/null || exit 1; done
export MLLEDGER_LEDGER=$W/l/ledger.db
"$M" init --key keys/admin.key >/dev/null || exit 1
"$M" key enroll keys/ci.pub --holder-key keys/ci.key --role engineer --key keys/admin.key >/dev/null || exit 1
for i in 1 2 3 4 5 6; do
	echo "data $i" >d$i.bin
	"$M" record dataset d@$i --file d$i.bin --set license=MIT --set pii=false \
		--key keys/ci.key >/dev/null || exit 1
done
L=l/ledger.db
LK=l/ledger.db.log.key
# Each section starts from this copy, so one that a faulty build lets destroy
# the ledger does not hide what the later sections test.
cp -a l snap
fresh() { rm -rf l && cp -a snap l; }
lsum=$(cksum <"$L")
ksum=$(cksum <"$LK")
asum=$(cksum <keys/admin.key)
report() { "$M" report --from 2020-01-01 --to 2030-01-01 --format json "$@"; }

# ---- 1. report --out onto the ledger and its files -------------------------
expect 2 "report --out ledger.db is refused" \
	"report: --out l/ledger.db: refusing to overwrite the ledger$" report --out "$L"
expect 2 "report --out ledger.db --force is refused" "refusing to overwrite the ledger" \
	report --out "$L" --force
expect 2 "report --out ./l/../l/ledger.db --force is refused" "refusing to overwrite the ledger" \
	report --out ./l/../l/ledger.db --force
expect 2 "report --out the absolute path of the ledger is refused" "the ledger" \
	report --out "$W/$L" --force
ln "$L" hardlink.db
expect 2 "report --out a hard link to the ledger --force is refused" "refusing to overwrite the ledger" \
	report --out hardlink.db --force
ln -s "$L" symlink.db
expect 2 "report --out a symbolic link to the ledger --force is refused" "the ledger" \
	report --out symlink.db --force
same "the ledger is unchanged after the refusals" "$L" "$lsum"
verify_ok "verify passes after the refusals"

wal_before=$(cksum <"$L-wal" 2>/dev/null || echo absent)
for f in -wal -shm -journal; do
	for force in "" --force; do
		expect 2 "report --out ledger.db$f $force is refused" \
			"refusing to overwrite the ledger's" report --out "$L$f" $force
	done
done
eq_wal=$(cksum <"$L-wal" 2>/dev/null || echo absent)
if [ "$wal_before" = "$eq_wal" ]; then ok "the -wal file is as it was"; else nok "the -wal file is as it was" "changed"; fi
[ -e "$L-journal" ] && nok "no -journal was written" "l/ledger.db-journal exists" || ok "no -journal was written"
verify_ok "verify passes after the -wal/-shm/-journal refusals"

# ---- 2. the log key -------------------------------------------------------
fresh
for force in "" --force; do
	expect 2 "report --out the log key $force is refused" \
		"--out l/ledger.db.log.key: refusing to overwrite the ledger's log key" \
		report --out "$LK" $force
done
same "the log key is unchanged" "$LK" "$ksum"
expect 0 "an append still works after the refusals (the log key signs it)" "" \
	"$M" record dataset d@7 --digest sha256:$(printf '%064d' 7) --set license=MIT \
	--set pii=false --key keys/ci.key
expect 2 "sign --out the log key --force is refused" "log key" \
	"$M" sign dataset d@8 --digest sha256:$(printf '%064d' 8) --set license=MIT \
	--set pii=false --key keys/ci.key --out "$LK" --force
expect 2 "key new over the log key --force is refused" "refusing to overwrite the ledger's log key" \
	"$M" key new ledger.db.log --dir l --force
expect 2 "verify --state the log key is refused" "log key" "$M" verify --state "$LK"
expect 2 "export --out the ledger is refused" "refusing to overwrite the ledger" \
	"$M" export --out "$L"
same "the log key is still unchanged" "$LK" "$ksum"
verify_ok "verify passes after the log-key refusals"

# ---- 3. the keys folder and secret keys ------------------------------------
fresh
ls keys >keys.before
for force in "" --force; do
	expect 2 "report --format csv --out keys $force is refused (a keys folder)" \
		"--out keys: holds secret keys .*keys folder" \
		"$M" report --from 2020-01-01 --to 2030-01-01 --format csv --out keys $force
	expect 2 "report --out keys/admin.key $force is refused" \
		"refusing to overwrite a secret key" report --out keys/admin.key $force
done
expect 2 "export --out keys is refused" "keys folder" "$M" export --out keys
if ls keys | cmp -s - keys.before; then ok "nothing was written into keys/"; else nok "nothing was written into keys/" "$(ls keys | tr '\n' ' ')"; fi
same "keys/admin.key is unchanged" keys/admin.key "$asum"

# ---- 4. an existing file: refused without --force, replaced with it --------
fresh
expect 0 "report --out r.json writes a new file" "" report --out r.json --generated-at 2026-01-01
rsum=$(cksum <r.json)
expect 2 "report --out an existing file is refused" \
	"report: --out r.json: exists \(use --force to replace it\)$" \
	report --out r.json --generated-at 2026-01-02
same "the refused file is unchanged" r.json "$rsum"
expect 0 "report --out an existing file --force replaces it" "" \
	report --out r.json --generated-at 2026-01-02 --force
[ "$(cksum <r.json)" != "$rsum" ] && grep -q 2026-01-02 r.json && ok "--force wrote the new report" ||
	nok "--force wrote the new report" "r.json was not replaced"
ls -a | grep -q '\.tmp\.' && nok "no temporary file is left" "$(ls -a | grep '\.tmp\.')" ||
	ok "no temporary file is left"
expect 0 "report --format csv --out a new folder" "" \
	"$M" report --from 2020-01-01 --to 2030-01-01 --format csv --out csv
expect 2 "report --format csv --out the same folder is refused" "csv/[a-z-]+\.csv: exists" \
	"$M" report --from 2020-01-01 --to 2030-01-01 --format csv --out csv
expect 0 "report --format csv --out the same folder --force" "" \
	"$M" report --from 2020-01-01 --to 2030-01-01 --format csv --out csv --force
echo old >signed.html.sig.json
expect 2 "report --sign: an existing PATH.sig.json is refused before anything is written" \
	"signed.html.sig.json: exists" "$M" report --from 2020-01-01 --to 2030-01-01 \
	--format html --out signed.html --sign keys/admin.key
[ ! -e signed.html ] && ok "the report was not written either" || nok "the report was not written either" "signed.html exists"

# ---- 5. cosign --out -------------------------------------------------------
fresh
"$M" checkpoint >ck
"$M" log-key >log.pub
expect 0 "cosign --out a new file" "" "$M" cosign --key keys/w1.key --log-key log.pub --state w1.st --init ck --out ck1
csum=$(cksum <ck1)
expect 2 "cosign --out an existing file is refused" "cosign: --out ck1: exists \(use --force" \
	"$M" cosign --key keys/w1.key --log-key log.pub --state w1.st ck --out ck1
same "the refused cosignature file is unchanged" ck1 "$csum"
expect 0 "cosign --out an existing file --force replaces it" "" \
	"$M" cosign --key keys/w1.key --log-key log.pub --state w1.st ck --out ck1 --force
expect 2 "cosign --out the witness key --force is refused" "refusing to overwrite a secret key" \
	"$M" cosign --key keys/w1.key --log-key log.pub --state w1.st ck --out keys/w1.key --force
expect 2 "cosign --out the ledger --force is refused" "refusing to overwrite the ledger$" \
	"$M" cosign --key keys/w1.key --log-key log.pub --state w1.st ck --out "$L" --force
same "the ledger is unchanged at the end of the output cases" "$L" "$(cksum <"$L")"
verify_ok "verify passes at the end of the output cases"

# ---- 6. a FIFO as input fails at once, with one line -----------------------
fresh
mkfifo fifo
echo '{"kind":"dataset","subject":"d@9","digest":"sha256:'"$(printf '%064d' 9)"'","properties":{"license":"MIT","pii":false}}' >imp.jsonl
printf 'pass\n' >pass.txt
fifo_case() { # NAME PATTERN CMD...
	local name=$1 pat=$2 got
	shift 2
	timeout 10 "$@" >out 2>err
	got=$?
	if [ "$got" = 124 ]; then
		nok "$name" "hung (killed after 10 s)"
	elif [ "$got" = 0 ]; then
		nok "$name" "exit 0"
	elif ! grep -Eq -- "$pat" err; then
		nok "$name" "exit $got; stderr lacks '$pat': $(head -c 300 err)"
	elif [ "$(wc -l <err)" != 1 ]; then
		nok "$name" "want one line on stderr: $(head -c 300 err)"
	else
		ok "$name (exit $got)"
	fi
}
fifo_case "--key FIFO fails at once" "--key fifo: not a regular file" \
	"$M" record dataset d@9 --digest sha256:$(printf '%064d' 9) --set license=MIT \
	--set pii=false --key fifo
fifo_case "--policy FIFO fails at once" "fifo: not a regular file" \
	"$M" gate --policy ./fifo d@1 --env prod
fifo_case "check --policy FIFO fails at once" "fifo: not a regular file" \
	"$M" check --policy ./fifo
fifo_case "policy lint FIFO fails at once" "fifo: not a regular file" "$M" policy lint fifo
fifo_case "--passphrase-file FIFO fails at once" "fifo: not a regular file" \
	"$M" key new enc --dir "$W" --passphrase-file fifo
fifo_case "MLLEDGER_PASSPHRASE_FILE=FIFO fails at once" "fifo: not a regular file" \
	env MLLEDGER_PASSPHRASE_FILE=fifo "$M" key new enc2 --dir "$W"
fifo_case "init --governance FIFO fails at once" "fifo: not a regular file" \
	"$M" --ledger "$W/new.db" init --key keys/admin.key --governance fifo
fifo_case "governance set FIFO fails at once" "fifo: not a regular file" \
	"$M" governance set fifo --key keys/admin.key
fifo_case "import FIFO fails at once" "fifo: not a regular file" \
	"$M" import fifo --key keys/ci.key
fifo_case "import --key FIFO fails at once" "--key fifo: not a regular file" \
	"$M" import imp.jsonl --key fifo
fifo_case "submit FIFO fails at once" "fifo: not a regular file" "$M" submit fifo
fifo_case "key enroll FIFO fails at once" "fifo: not a regular file" \
	"$M" key enroll fifo --role engineer --key keys/admin.key
fifo_case "verify --checkpoint FIFO fails at once" "fifo: not a regular file" \
	"$M" verify --checkpoint fifo
fifo_case "verify --trust FIFO fails at once" "fifo: not a regular file" \
	"$M" verify --checkpoint ck --trust fifo
fifo_case "verify --state FIFO fails at once" "fifo" "$M" verify --state fifo
fifo_case "cosign CHECKPOINT FIFO fails at once" "fifo: not a regular file" \
	"$M" cosign --key keys/w1.key --log-key log.pub --state w1.st fifo
fifo_case "cosign --log-key FIFO fails at once" "fifo: not a regular file" \
	"$M" cosign --key keys/w1.key --log-key fifo --state w1.st ck
fifo_case "verify-proof FIFO fails at once" "fifo: not a regular file" \
	"$M" verify-proof --log-key log.pub fifo fifo
fifo_case "verify-report FIFO fails at once" "fifo: not a regular file" \
	"$M" verify-report r.json --sig fifo --key keys/admin.pub
fifo_case "report --css FIFO fails at once" "fifo: not a regular file" \
	"$M" report --from 2020-01-01 --to 2030-01-01 --format html --out css.html --css fifo
fifo_case "--ledger FIFO fails at once" "fifo" "$M" --ledger fifo verify
fifo_case "record --file FIFO fails at once" "fifo" \
	"$M" record dataset d@10 --file fifo --set license=MIT --set pii=false --key keys/ci.key
verify_ok "verify passes after the FIFO cases"

# ---- 7. export: all or nothing ---------------------------------------------
fresh
mkdir empty
"$M" log-key >lk.pub
expect 0 "export --out an empty folder" "" "$M" export --out empty --key keys/ci.key
"$M" verify --bundle empty --log-key lk.pub >/dev/null 2>&1 && ok "the export into an empty folder verifies" ||
	nok "the export into an empty folder verifies" "verify --bundle failed"
mkdir busy && echo x >busy/f
expect 2 "export --out a non-empty folder is refused" "not empty" "$M" export --out busy --key keys/ci.key
[ "$(ls busy)" = f ] && ok "the non-empty folder is as it was" || nok "the non-empty folder is as it was" "$(ls busy)"
# A file-size limit (SIGXFSZ ignored, so writes fail with EFBIG as on a full
# disk) lets the folders and small files be made and fails the ledger copy.
size=$(wc -c <"$L")
# (bash counts ulimit -f in KiB; the ledger's 32 KiB -shm file must fit.)
if [ "$size" -gt 45056 ]; then
	( trap '' XFSZ; ulimit -f 40; exec "$M" export --out part --key keys/ci.key ) >out 2>err
	got=$?
	if [ "$got" = 0 ]; then
		nok "export failing midway (file-size limit) exits non-zero" "exit 0"
	else
		ok "export failing midway (file-size limit) exits non-zero (exit $got)"
	fi
	left=$(ls -d part part.* 2>/dev/null)
	[ -z "$left" ] && ok "a failed export leaves no partial folder" ||
		nok "a failed export leaves no partial folder" "left: $left $(find part* | head -5)"
	expect 0 "the same export without the limit succeeds" "" "$M" export --out part --key keys/ci.key
else
	nok "export failing midway" "test setup: the ledger is only $size bytes"
fi
verify_ok "verify passes at the end"

finish
