#!/bin/sh
# tests/valgrind/smoke.sh — a short CLI subset under valgrind memcheck
# (issue 6, part 6; `make valgrind` runs it after the unit tests).
#
#   MLLEDGER=/abs/mlledger VALGRIND="valgrind ..." sh tests/valgrind/smoke.sh
#
# One run of each main path (keys, init, enroll, record, sign/submit,
# import, log, show, verify, checkpoint, prove/verify-proof, export and
# verify --bundle, evidence, gate, check, report, and serve with --server
# clients: mirror, record, checkpoint, gate) and some refusals (bad
# input, tampering-free integrity errors are in the unit tests), each under
# VALGRIND with --error-exitcode=99: a memcheck error or a definite or
# indirect leak makes the case fail whatever the command's own exit code.
# Prints "ok - ..." / "not ok - ..." and "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
unset MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
M=${MLLEDGER:-$root/build/mlledger}
VG=${VALGRIND:-valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect}
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-vg.XXXXXX") || exit 1
trap 'cd / && rm -rf "$W"' EXIT
cd "$W" || exit 1

PASS=0 FAIL=0
# vg WANT-RC NAME ARGS...: mlledger ARGS under valgrind; exit 99 is a
# memcheck finding, anything else but WANT-RC a wrong result.
vg() {
	local want=$1 name=$2 rc
	shift 2
	$VG --error-exitcode=99 "$M" "$@" >"$W/out" 2>"$W/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		PASS=$((PASS + 1))
		echo "ok - $name"
	else
		FAIL=$((FAIL + 1))
		echo "not ok - $name: exit $rc, want $want"
		sed 's/^/#   /' "$W/err" | head -40
	fi
}
HA=$(printf '%064d' 0 | tr 0 a)
L=$W/l.db
mkdir k data
for n in admin eng alice bob; do "$M" key new "$n" --dir k >/dev/null || exit 1; done
printf 'hello\n' >data/a.txt
printf 'world\n' >data/b.txt

vg 0 "key new" key new carol --dir k
vg 0 "init" --ledger "$L" init --key k/admin.key
vg 0 "key enroll" --ledger "$L" key enroll k/eng.pub --holder-key k/eng.key --role engineer --key k/admin.key
"$M" --ledger "$L" key enroll k/alice.pub --holder-key k/alice.key --role approver --key k/admin.key >/dev/null
# bob also validates: evaluations are a validator's to sign (FORMAT.md §2)
"$M" --ledger "$L" key enroll k/bob.pub --holder-key k/bob.key --role approver,validator --key k/admin.key >/dev/null
vg 0 "record dataset --file" --ledger "$L" record dataset ds@1 --file data/a.txt \
	--set license=MIT --set pii=false --key k/eng.key
vg 0 "record model --artifact (folder)" --ledger "$L" record model m@1 --artifact data \
	--dataset ds@1 --metric auc=0.91 --key k/eng.key
vg 0 "record evaluation" --ledger "$L" record evaluation m@1 --metric auc=0.92 \
	--dataset ds@1 --key k/bob.key
vg 0 "sign (offline)" --ledger "$W/none.db" sign approval m@1 --env prod --decision approve \
	--origin "$("$M" --ledger "$L" log-key | cut -d+ -f1)" \
	--digest "sha256:$(sha256sum data/a.txt | cut -c1-64)" --key k/alice.key --out appr.dsse
vg 2 "submit of an envelope with the wrong digest: refused" --ledger "$L" submit appr.dsse
"$M" --ledger "$L" record approval m@1 --env prod --decision approve --key k/alice.key >/dev/null
awk -v h="$HA" 'BEGIN { for (j = 1; j <= 30; j++)
	printf "{\"kind\":\"dataset\",\"subject\":\"imp%d@1\",\"digest\":\"sha256:%s\"}\n", j, h }' >imp.jsonl
vg 0 "import" --ledger "$L" import imp.jsonl --key k/eng.key
echo '{"kind":"dataset","subject":"bad"}' >bad.jsonl
vg 2 "import of a bad line: refused" --ledger "$L" import bad.jsonl --key k/eng.key
vg 2 "record of an unknown reference: refused" --ledger "$L" record evaluation nope@1 \
	--metric auc=0.9 --key k/bob.key
vg 6 "record of a kind the key's roles may not sign: refused" --ledger "$L" record approval m@1 \
	--env prod --decision approve --key k/eng.key
vg 2 "record in an environment the governance does not declare: refused" --ledger "$L" \
	record deployment m@1 --env canary --key k/eng.key
vg 6 "record with a key not enrolled: refused" --ledger "$L" record dataset x@1 \
	--digest "sha256:$HA" --key k/carol.key
vg 0 "log --format json" --ledger "$L" log --format json
vg 0 "show --format json" --ledger "$L" show 3 --format json
vg 0 "verify" --ledger "$L" verify
vg 0 "verify --jobs 2 --format json" --ledger "$L" verify --jobs 2 --format json
"$M" --ledger "$L" checkpoint >ckpt
vg 0 "checkpoint" --ledger "$L" checkpoint
vg 0 "verify --checkpoint" --ledger "$L" verify --checkpoint ckpt
"$M" --ledger "$L" log-key >log.pub
"$M" --ledger "$L" prove 3 >e3.proof
"$M" --ledger "$L" show 3 --format raw >e3.leaf
vg 0 "prove" --ledger "$L" prove 3
vg 0 "prove --consistency" --ledger "$L" prove --consistency 5
vg 0 "verify-proof" verify-proof --log-key log.pub e3.proof e3.leaf
vg 0 "export" --ledger "$L" export --out exp --key k/admin.key
vg 0 "verify --bundle" verify --bundle exp --log-key log.pub
vg 0 "evidence" --ledger "$L" evidence m@1 --env prod
vg 1 "gate (deny)" --ledger "$L" gate --policy "$root/policies/production.xml" m@1 --env prod --no-record
vg 0 "policy lint" policy lint "$root/policies/production.xml"
vg 1 "check" --ledger "$L" check --policy "$root/policies/production.xml"
vg 0 "report --format html" --ledger "$L" report --policy "$root/policies/production.xml" \
	--from 2020-01-01 --to 2035-12-31 \
	--format html --out r.html

# serve under valgrind (its HTTP threads, the committer, the sweeper and
# the shutdown), with clients under valgrind too: a mirror, an append, a
# checkpoint, a refusal; then SIGTERM, and valgrind's own exit status.
$VG --error-exitcode=99 "$M" serve --listen 127.0.0.1:0 --ledger "$L" --ready-file srv.url \
	2>srv.err &
SPID=$!
trap 'kill -KILL $SPID 2>/dev/null; cd / && rm -rf "$W"' EXIT
i=0
while [ ! -s srv.url ] && [ $i -lt 600 ] && kill -0 $SPID 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if [ -s srv.url ]; then
	U=$(cat srv.url)
	R="--server $U --log-key log.pub --state cli.state"
	vg 0 "mirror --server" mirror $R --out mirror.db
	vg 0 "record --server" record dataset remote@1 --file data/b.txt $R --mirror mirror.db \
		--key k/eng.key
	vg 0 "checkpoint --server" checkpoint $R
	vg 6 "record --server with a key not enrolled: 403" record dataset remote@2 \
		--file data/b.txt $R --mirror mirror.db --key k/carol.key
	vg 1 "gate --server (deny)" gate --policy "$root/policies/production.xml" m@1 --env prod \
		$R --mirror mirror.db --no-record
	curl -s -o /dev/null -o /dev/null -o /dev/null "$U/tile/0/000.p/3" "$U/tile/entries/000.p/3" \
		"$U/metrics" || true
fi
kill -TERM $SPID 2>/dev/null
wait $SPID
rc=$?
if [ "$rc" = 0 ]; then
	PASS=$((PASS + 1))
	echo "ok - serve (appends, reads, SIGTERM)"
else
	FAIL=$((FAIL + 1))
	echo "not ok - serve (appends, reads, SIGTERM): exit $rc, want 0"
	sed 's/^/#   /' srv.err | head -40
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
