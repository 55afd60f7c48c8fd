#!/bin/sh
# tests/cli/retries.sh — safe retries (issue 12).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/retries.sh
#
# The finding: the same `mlledger record` repeated within one second exited
# 2 ("duplicate", like malformed input), because the statement bytes and
# the deterministic signature were identical; a second later it appended a
# second copy.  Now a retry of what the ledger holds exits 0 with "already
# recorded at seq N" and writes nothing; --idempotency-key K makes a retry
# a second later the same request; the same K with other content is a
# conflict (exit 7); records without a key are never taken for retries
# (ledger/FORMAT.md §2, "Retries").
#
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed";
# exit 1 when any case failed.  Uses faketime (a stopped clock) for "within
# one second" when it is installed, else runs the commands back to back;
# sqlite3 for the projection cases (skipped without it).

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/retries.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" retries
export TZ=UTC
unset FAKETIME

# faketime preloads its library before an ASan build's runtime (make check)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
HAVE_FAKETIME=0
if command -v faketime >/dev/null 2>&1 &&
	[ "$(faketime '2030-01-02 03:04:05' date -u +%Y 2>/dev/null)" = 2030 ]; then
	HAVE_FAKETIME=1
fi
HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1

# Runs the command under a stopped clock (this very second) when faketime
# works, so that two runs fall in the same second.
FROZEN=$(date -u '+%Y-%m-%d %H:%M:%S')
frozen() {
	if [ "$HAVE_FAKETIME" = 1 ]; then faketime "$FROZEN" "$@"; else "$@"; fi
}

out= err= rc=
run() {
	out=$("$@" 2>"$W/err")
	rc=$?
	err=$(cat "$W/err")
}
sha() { printf %s "$1" | sha256sum | cut -c1-64; }

L=$W/l.db
"$M" key new admin >/dev/null 2>&1 && "$M" key new ci >/dev/null 2>&1 &&
	"$M" --ledger "$L" init --key admin.key >/dev/null 2>&1 &&
	"$M" --ledger "$L" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null 2>&1 ||
	{ nok setup "init failed"; echo "$pass passed, $fail failed"; exit 1; }
count() { "$M" --ledger "$L" log --format json 2>/dev/null | grep -o '"seq":' | wc -l; }
# entries per the log: a JSON array of objects, one "seq" each
n0=$(count)
[ "$n0" -ge 2 ] || nok "setup" "log --format json shows $n0 entries"

# 1. the same record twice within one second (the issue's reproduction,
# with a key so that both runs produce the same statement)
D=sha256:$(sha data-1)
frozen "$M" --ledger "$L" record dataset ds@1 --digest "$D" --key ci.key \
	--idempotency-key k0 >first.out 2>&1
seq1=$(cut -d' ' -f1 first.out)
run frozen "$M" --ledger "$L" record dataset ds@1 --digest "$D" --key ci.key --idempotency-key k0
n1=$(count)
if [ "$rc" = 0 ] && [[ "$err" == *"already recorded at seq $seq1"* ]] &&
	[ "$out" = "$(cat first.out)" ] && [ "$n1" = $((n0 + 1)) ]; then
	ok "the same record twice within a second: exit 0, already recorded, one entry"
else
	nok "the same record twice within a second" "rc=$rc err=[$err] out=[$out] entries $n0 -> $n1"
fi

# the --format json answer says so too
run frozen "$M" --ledger "$L" record dataset ds@1 --digest "$D" --key ci.key \
	--idempotency-key k0 --format json
if [ "$rc" = 0 ] && [[ "$out" == *"\"alreadyRecorded\":true"* ]] &&
	[[ "$out" == *"already recorded at seq $seq1"* ]]; then
	ok "record --format json reports alreadyRecorded"
else
	nok "record --format json reports alreadyRecorded" "rc=$rc out=[$out]"
fi

# 2. the same envelope submitted twice
"$M" key new alice >/dev/null 2>&1
"$M" --ledger "$L" key enroll alice.pub --holder-key alice.key --role approver --key admin.key >/dev/null 2>&1
"$M" --ledger "$L" record model m@1 --digest "sha256:$(sha model-1)" --dataset ds@1 \
	--key ci.key >/dev/null 2>&1
"$M" --ledger "$L" sign approval m@1 --env prod --decision approve --key alice.key \
	--out a.dsse >/dev/null 2>&1
run "$M" --ledger "$L" submit a.dsse
s1=$(echo "$out" | cut -d' ' -f1)
nb=$(count)
run "$M" --ledger "$L" submit a.dsse
na=$(count)
if [ -n "$s1" ] && [ "$rc" = 0 ] && [[ "$err" == *"a.dsse: already recorded at seq $s1"* ]] &&
	[ "$na" = "$nb" ]; then
	ok "the same envelope submitted twice: exit 0, already recorded"
else
	nok "the same envelope submitted twice" "rc=$rc err=[$err] entries $nb -> $na"
fi

# 3. --idempotency-key k1 twice, a second apart: one entry
nb=$(count)
run "$M" --ledger "$L" record deployment m@1 --env staging --key ci.key --idempotency-key k1
s1=$(echo "$out" | cut -d' ' -f1)
sleep 1.1
run "$M" --ledger "$L" record deployment m@1 --env staging --key ci.key --idempotency-key k1
na=$(count)
if [ "$rc" = 0 ] && [[ "$err" == *"already recorded at seq $s1"* ]] && [ "$na" = $((nb + 1)) ]; then
	ok "--idempotency-key k1 twice a second apart: one entry"
else
	nok "--idempotency-key k1 twice a second apart" "rc=$rc err=[$err] entries $nb -> $na"
fi

# 4. the same key, other content: exit 7 naming the seq, nothing written
nb=$(count)
run "$M" --ledger "$L" record deployment m@1 --env prod --key ci.key --idempotency-key k1
na=$(count)
if [ "$rc" = 7 ] && [[ "$err" == *conflict*"seq $s1"* ]] && [ "$(echo "$err" | wc -l)" = 1 ] &&
	[ "$na" = "$nb" ]; then
	ok "the same key with other content: exit 7 naming seq $s1"
else
	nok "the same key with other content" "rc=$rc err=[$err] entries $nb -> $na"
fi

# the key is scoped by the signing key: another key may use k1
run "$M" --ledger "$L" record approval m@1 --env staging --decision approve --key alice.key \
	--idempotency-key k1
[ "$rc" = 0 ] && [[ "$err" != *already* ]] && ok "another signer's k1 is another request" ||
	nok "another signer's k1 is another request" "rc=$rc err=[$err]"

# 5. two records of identical content without a key in the same second
nb=$(count)
frozen "$M" --ledger "$L" record incident m@1 --severity low --description same \
	--key ci.key >/dev/null 2>&1
r1=$?
run frozen "$M" --ledger "$L" record incident m@1 --severity low --description same --key ci.key
na=$(count)
if [ "$r1" = 0 ] && [ "$rc" = 0 ] && [[ "$err" != *already* ]] && [ "$na" = $((nb + 2)) ]; then
	ok "two records of the same content without a key, one second: two entries"
else
	nok "two records without a key" "rc=$r1,$rc err=[$err] entries $nb -> $na"
fi

# bad keys are refused as input
badk=0
for k in "" "a b" "a/b" "$(printf 'k%.0s' $(seq 129))"; do
	run "$M" --ledger "$L" record incident m@1 --severity low --description x --key ci.key \
		--idempotency-key "$k"
	[ "$rc" = 2 ] || { nok "--idempotency-key [$k] is refused" "rc=$rc err=[$err]"; badk=1; }
done
[ "$badk" = 0 ] && ok "malformed --idempotency-key values exit 2"

# 6. import lines with idempotency keys, retried: no duplicates
cat >batch.jsonl <<EOF
{"kind":"monitoring","subject":"m@1","environment":"staging","metrics":{"auc":0.9},"idempotencyKey":"mon-1"}
{"kind":"monitoring","subject":"m@1","environment":"staging","metrics":{"auc":0.8},"idempotencyKey":"mon-2"}
EOF
nb=$(count)
run "$M" --ledger "$L" import batch.jsonl --key ci.key
first=$(count)
sleep 1.1
run "$M" --ledger "$L" import batch.jsonl --key ci.key
na=$(count)
if [ "$rc" = 0 ] && [ "$first" = $((nb + 2)) ] && [ "$na" = "$first" ] &&
	[[ "$err" == *"batch.jsonl:1: already recorded at seq"* ]] &&
	[[ "$err" == *"batch.jsonl:2: already recorded at seq"* ]]; then
	ok "an import retried with idempotency keys: no duplicates, each line reported"
else
	nok "an import retried" "rc=$rc err=[$err] out=[$out] entries $nb -> $first -> $na"
fi

# a retried file with one new line: the held lines are reported, the new one appended
echo '{"kind":"monitoring","subject":"m@1","environment":"staging","metrics":{"auc":0.7},"idempotencyKey":"mon-3"}' >>batch.jsonl
run "$M" --ledger "$L" import batch.jsonl --key ci.key --format json
na2=$(count)
if [ "$rc" = 0 ] && [ "$na2" = $((na + 1)) ] && [[ "$out" == *'"count":1'* ]] &&
	[[ "$out" == *'"alreadyRecorded":[{"line":1'* ]]; then
	ok "an import with held and new lines appends only the new ones"
else
	nok "an import with held and new lines" "rc=$rc out=[$out] entries $na -> $na2"
fi

# a line repeating an earlier line of the same file
cat >dup.jsonl <<EOF
{"kind":"incident","subject":"m@1","severity":"low","description":"twice","idempotencyKey":"inc-9"}
{"kind":"incident","subject":"m@1","severity":"low","description":"twice","idempotencyKey":"inc-9"}
EOF
nb=$(count)
run "$M" --ledger "$L" import dup.jsonl --key ci.key
na=$(count)
if [ "$rc" = 0 ] && [ "$na" = $((nb + 1)) ] && [[ "$err" == *"dup.jsonl:2: already recorded at seq $nb"* ]]; then
	ok "a line repeating an earlier line of the file is reported, not appended"
else
	nok "a repeated line in one file" "rc=$rc err=[$err] entries $nb -> $na"
fi

# an import line reusing a key with other content: exit 7, nothing written
cat >conflict.jsonl <<EOF
{"kind":"incident","subject":"m@1","severity":"low","description":"new one","idempotencyKey":"inc-10"}
{"kind":"incident","subject":"m@1","severity":"high","description":"other","idempotencyKey":"inc-9"}
EOF
nb=$(count)
run "$M" --ledger "$L" import conflict.jsonl --key ci.key
na=$(count)
if [ "$rc" = 7 ] && [ "$na" = "$nb" ] && [[ "$err" == *"conflict.jsonl:2:"*conflict*seq* ]]; then
	ok "an import line reusing a key with other content: exit 7, nothing written"
else
	nok "an import conflict" "rc=$rc err=[$err] entries $nb -> $na"
fi

run "$M" --ledger "$L" verify
[ "$rc" = 0 ] && ok "the ledger verifies after every retry" || nok "verify" "rc=$rc err=[$err]"

# 7. projections are not trusted
if [ "$HAVE_SQLITE" = 1 ]; then
	cp "$L" p.db && cp "$L.log.key" p.db.log.key
	# a row pointing k1 at an entry that does not carry it: no false conflict
	sqlite3 p.db "UPDATE idempotency_keys SET seq = 0 WHERE idem_key = 'k1'" 2>/dev/null
	run "$M" --ledger p.db record deployment m@1 --env prod --key ci.key --idempotency-key k1
	[ "$rc" != 7 ] && ok "a wrong idempotency_keys row never answers conflict (rc $rc)" ||
		nok "a wrong idempotency_keys row" "rc=$rc err=[$err]"
	cp "$L" q.db && cp "$L.log.key" q.db.log.key
	sqlite3 q.db "DELETE FROM idempotency_keys WHERE idem_key = 'k1'" 2>/dev/null
	run "$M" --ledger q.db record deployment m@1 --env prod --key ci.key --idempotency-key k1
	[ "$rc" != 7 ] && ok "a missing idempotency_keys row never answers conflict (rc $rc)" ||
		nok "a missing idempotency_keys row" "rc=$rc err=[$err]"
	cp "$L" t.db
	sqlite3 t.db "DELETE FROM idempotency_keys WHERE idem_key = 'mon-1'" 2>/dev/null
	run "$M" --ledger t.db verify
	[ "$rc" = 4 ] && [[ "$err" == *idempotency_keys* ]] &&
		ok "verify: a deleted idempotency_keys row exits 4" ||
		nok "verify: a deleted idempotency_keys row" "rc=$rc err=[$err]"
	# the final comparison of verify's replay (issue 18 part E, in memory):
	# a changed column and an extra row are caught like a missing row
	cp "$L" t2.db
	sqlite3 t2.db "UPDATE idempotency_keys SET seq = seq + 1 WHERE idem_key = 'mon-1'" 2>/dev/null
	run "$M" --ledger t2.db verify
	[ "$rc" = 4 ] && [[ "$err" == *"table idempotency_keys differs"* ]] &&
		ok "verify: a changed idempotency_keys seq exits 4" ||
		nok "verify: a changed idempotency_keys seq" "rc=$rc err=[$err]"
	cp "$L" t3.db
	sqlite3 t3.db "INSERT INTO idempotency_keys SELECT keyid, 'extra-1', seq FROM idempotency_keys
		WHERE idem_key = 'mon-1'" 2>/dev/null
	run "$M" --ledger t3.db verify
	[ "$rc" = 4 ] && [[ "$err" == *"table idempotency_keys differs"* ]] &&
		ok "verify: an extra idempotency_keys row exits 4" ||
		nok "verify: an extra idempotency_keys row" "rc=$rc err=[$err]"
	cp "$L" u.db
	sqlite3 u.db "DROP TABLE idempotency_keys" 2>/dev/null
	run "$M" --ledger u.db verify
	[ "$rc" = 4 ] && ok "verify: a dropped idempotency_keys table exits 4 when entries carry keys" ||
		nok "verify: a dropped idempotency_keys table" "rc=$rc err=[$err]"
else
	skip "projection cases" "sqlite3 is not installed"
fi

# 8. a ledger written before the table existed: verifies, and gets it on
# its next append
LEG=$here/../data/legacy
if [ "$HAVE_SQLITE" = 1 ] && [ -f "$LEG/ledger-v1.db" ]; then
	mkdir legacy && cp "$LEG/ledger-v1.db" "$LEG/ledger-v1.db.log.key" "$LEG/ci.key" legacy/
	run "$M" --ledger legacy/ledger-v1.db verify
	r0=$rc
	run "$M" --ledger legacy/ledger-v1.db record incident "$(sqlite3 legacy/ledger-v1.db \
		"SELECT ref FROM subjects WHERE kind='model' LIMIT 1")" --severity low \
		--description retried --key legacy/ci.key --idempotency-key legacy-1
	r1=$rc
	run "$M" --ledger legacy/ledger-v1.db verify
	t=$(sqlite3 legacy/ledger-v1.db "SELECT count(*) FROM idempotency_keys" 2>&1)
	if [ "$r0" = 0 ] && [ "$r1" = 0 ] && [ "$rc" = 0 ] && [ "$t" = 1 ]; then
		ok "a ledger without idempotency_keys verifies and gets the table on append"
	else
		nok "legacy ledger" "verify $r0, record $r1, verify $rc [$err], rows [$t]"
	fi
else
	skip "legacy ledger" "sqlite3 or tests/data/legacy missing"
fi

finish
