#!/bin/sh
# tests/cli/reportrecord.sh — the report's sign-off section and
# `mlledger report --sign KEY --record` (issue 15, item 5).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/reportrecord.sh
#
# A small ledger (admin, an auditor with a person, an engineer, an auditor
# to be revoked, a key never enrolled).  Checks: the sign-off in every
# format names the person and key id, what the signature covers and the
# verify command, or says the report is unsigned, or that a key is not
# enrolled in this ledger; the JSON validates against
# reports/report.schema.json; --record appends a report entry whose
# subject digest is sha256sum of the file (a CSV folder: of its manifest),
# with the period, as-of, format and policies; verify passes on the ledger
# and an independent verifier (tests/interop/verify_ledger.py) accepts it;
# the same envelope again is the entry it repeats.  Negative: --record
# without --sign (exit 2, both flags named), a key without the auditor
# role, a revoked key and a key not enrolled (exit 6, no file written, no
# entry); a recorded report edited afterwards fails verify-report and no
# longer matches its entry; a malformed report entry is refused by submit
# and, forged into the ledger, by verify.  Output: "ok - NAME" /
# "not ok - NAME: DETAIL", then "N passed, N failed"; exit 1 on failure.

if [ -z "${BASH_VERSION:-}" ]; then
	if command -v bash >/dev/null 2>&1; then exec bash "$0" "$@"; fi
	echo "not ok - environment: tests/cli/reportrecord.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
unset POSIXLY_CORRECT MLLEDGER_LEDGER MLLEDGER_PASSPHRASE_FILE MLLEDGER_SERVER
set -u
export LC_ALL=C.UTF-8
umask 022

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
M=${MLLEDGER:-$REPO/build/mlledger}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3)
W=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-reportrecord.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || { cd / && rm -rf "$W"; }' EXIT
cd "$W" || exit 1

PASS=0
FAIL=0
SKIPPED=0
CASE=
WHY=
SKIPWHY=
OUT=$W/.out
ERR=$W/.err
begin() { CASE=$1; WHY=; }
bad() { [ -n "$WHY" ] || WHY=$*; }
# skipping WHY: the case could not run here; end() counts it apart, never
# as passed
skipping() { SKIPWHY=$*; }
end() {
	if [ -n "$WHY" ]; then FAIL=$((FAIL + 1)); echo "not ok - $CASE: $WHY"
	elif [ -n "$SKIPWHY" ]; then SKIPPED=$((SKIPPED + 1)); echo "ok - $CASE # SKIP $SKIPWHY"
	else PASS=$((PASS + 1)); echo "ok - $CASE"; fi
	SKIPWHY=
}
run() { "$@" >"$OUT" 2>"$ERR"; RC=$?; }
snip() { tr '\n' ' ' <"$1" | cut -c1-300; }
want_rc() { [ "$RC" = "$1" ] || bad "exit $RC, want $1 (stderr: $(snip "$ERR"))"; }
want_err() {
	want_rc "$1"
	grep -Eq -- "$2" "$ERR" || bad "stderr lacks /$2/: $(snip "$ERR")"
}
want_out() { grep -Eq -- "$1" "$OUT" || bad "stdout lacks /$1/: $(snip "$OUT")"; }

L=$W/l.db
export MLLEDGER_LEDGER=$L
size() { "$M" log --format json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# jq-like: jget FILE EXPR (python expression over d)
jget() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# the statement of entry SEQ, as JSON
stmt() { "$M" show "$1" --format json | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["statement"]))'; }
# the report's options: a fixed generation time, a period
A="--from 2026-01-01 --to 2026-12-31 --generated-at 2026-12-01T00:00:00Z"

begin "fixture ledger"
for k in admin carol eng old stranger; do "$M" key new "$k" >/dev/null || bad "key new $k"; done
"$M" init --key admin.key --origin rr-test/ledger >/dev/null || bad "init"
"$M" key enroll carol.pub --role auditor --holder-key carol.key --person carol \
	--name "Carol Jones" --key admin.key >/dev/null || bad "enrol carol"
"$M" key enroll eng.pub --role engineer --holder-key eng.key --key admin.key >/dev/null ||
	bad "enrol eng"
"$M" key enroll old.pub --role auditor --holder-key old.key --key admin.key >/dev/null ||
	bad "enrol old"
"$M" key revoke old --reason "left the firm" --key admin.key >/dev/null || bad "revoke old"
"$M" policy record "$REPO/policies/production.xml" --key admin.key >/dev/null || bad "policy record"
end

# ---- the sign-off section ------------------------------------------------

begin "unsigned: the sign-off says the report is not signed (md, html, json)"
run "$M" report $A --format md --out u.md
want_rc 0
grep -q '^## 9\. Sign-off$' u.md || bad "no sign-off heading in md"
[ "$(grep -n '^## ' u.md | tail -1 | cut -d: -f2-)" = "## 9. Sign-off" ] || bad "sign-off is not the last section"
grep -q 'This report is not signed' u.md || bad "md does not say unsigned"
run "$M" report $A --format html --out u.html
grep -q '<section id="signoff"><h2>9. Sign-off</h2>' u.html || bad "no sign-off section in html"
grep -q 'This report is not signed' u.html || bad "html does not say unsigned"
run "$M" report $A --format json --out u.json
[ "$(jget u.json 'd["signOff"]["signed"]')" = False ] || bad "json signOff.signed is not false"
[ "$(jget u.json 'list(d)[-1]')" = signOff ] || bad "signOff is not the last member"
end

begin "signed: the sign-off names the person, key id, what is covered, the verify command"
keyid=$("$M" key list --format json | "$PY" -c 'import json,sys; print([k["keyid"] for k in json.load(sys.stdin) if k["name"]=="carol"][0])' 2>/dev/null)
[ -n "$keyid" ] || bad "no keyid for carol"
run "$M" report $A --format html --out s.html --sign carol.key
want_rc 0
sec=$(sed -n '/<section id="signoff">/,/<\/section>/p' s.html)
grep -q "Signed by Carol Jones (carol) with key $keyid" <<<"$sec" || bad "html: signer not named: $(head -c 300 <<<"$sec")"
grep -q 'The exact bytes of this file, s.html' <<<"$sec" || bad "html: what is covered missing"
grep -q 'mlledger verify-report s.html --key carol.pub' <<<"$sec" || bad "html: verify command missing"
grep -q 'Not recorded in the ledger' <<<"$sec" || bad "html: should say not recorded"
run "$M" verify-report s.html --key carol.pub
want_rc 0
end

begin "signed JSON: signOff validates against reports/report.schema.json"
run "$M" report $A --format json --out s.json --sign carol.key
want_rc 0
[ "$(jget s.json 'd["signOff"]["signer"]["person"]')" = carol ] || bad "signer.person"
[ "$(jget s.json 'd["signOff"]["signer"]["enrolled"]')" = True ] || bad "signer.enrolled"
[ "$(jget s.json 'd["signOff"]["verify"]')" = "mlledger verify-report s.json --key carol.pub" ] ||
	bad "verify command: $(jget s.json 'd["signOff"]["verify"]')"
if "$PY" -c 'import jsonschema' 2>/dev/null; then
	for f in s.json u.json; do
		"$PY" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
			"$f" "$REPO/reports/report.schema.json" 2>"$W/.js" || bad "$f: $(snip "$W/.js")"
	done
	# the schema can fail: a signOff without its statement does not validate
	"$PY" -c 'import json,sys,jsonschema
d=json.load(open(sys.argv[1])); del d["signOff"]["statement"]
try:
    jsonschema.validate(d, json.load(open(sys.argv[2]))); sys.exit(1)
except jsonschema.ValidationError: pass' s.json "$REPO/reports/report.schema.json" ||
		bad "the schema accepts a signOff without statement"
else
	skipping "python3-jsonschema absent"
fi
end

begin "a key not enrolled in this ledger is named by its key id and said to be so"
run "$M" report $A --format md --out x.md --sign stranger.key
want_rc 0
grep -q 'Signed with key stranger+[0-9a-f]\{8\}, which is not enrolled in this ledger' x.md ||
	bad "md: $(grep -A2 '## 9' x.md | tail -1)"
end

begin "a revoked key (without --record) is said to be revoked"
run "$M" report $A --format md --out o.md --sign old.key
want_rc 0
grep -q 'The key was revoked at entry [0-9]*' o.md || bad "md does not say revoked"
end

begin "a CSV folder's sign-off covers every table through its manifest; signoff.csv is signed"
run "$M" report $A --format csv --out cf --sign carol.key
want_rc 0
grep -q 'MANIFEST.sig.json lists each table file' cf/signoff.csv || bad "signoff.csv: $(snip cf/signoff.csv)"
grep -q '"signoff.csv"' cf/MANIFEST.sig.json 2>/dev/null ||
	"$PY" -c 'import json,sys,base64; s=json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"])); sys.exit(0 if any(x["name"]=="signoff.csv" for x in s["subject"]) else 1)' cf/MANIFEST.sig.json ||
	bad "signoff.csv not in the manifest"
run "$M" verify-report cf --key carol.pub
want_rc 0
end

begin "same options, same bytes: the signed sign-off is reproducible"
run "$M" report $A --format html --out s2.html --sign carol.key --as-of 2026-12-01T00:00:00Z
run "$M" report $A --format html --out s3.html --sign carol.key --as-of 2026-12-01T00:00:00Z
sed 's/s2\.html/X/g' s2.html >s2.x; sed 's/s3\.html/X/g' s3.html >s3.x
cmp -s s2.x s3.x || bad "two runs differ beyond the file name"
end

# ---- --record: refusals first ------------------------------------------------

begin "--record without --sign exits 2 naming both flags; nothing written"
n0=$(size)
run "$M" report $A --format html --out r0.html --record
want_err 2 '--record needs --sign'
[ ! -e r0.html ] || bad "r0.html written"
[ "$(size)" = "$n0" ] || bad "an entry was appended"
end

begin "--record with a key that may not sign report (engineer) exits 6; nothing written"
run "$M" report $A --format html --out r1.html --sign eng.key --record
want_err 6 'may not sign report entries'
grep -q 'no file was written' "$ERR" || bad "stderr does not say no file was written"
[ ! -e r1.html ] && [ ! -e r1.html.sig.json ] || bad "a file was written"
[ "$(size)" = "$n0" ] || bad "an entry was appended"
end

begin "--record with a revoked key exits 6; nothing written"
run "$M" report $A --format html --out r2.html --sign old.key --record
want_err 6 'revoked'
[ ! -e r2.html ] && [ ! -e r2.html.sig.json ] || bad "a file was written"
[ "$(size)" = "$n0" ] || bad "an entry was appended"
end

begin "--record with a key not enrolled exits 6; nothing written (CSV folder too)"
run "$M" report $A --format html --out r3.html --sign stranger.key --record
want_err 6 'not enrolled'
[ ! -e r3.html ] || bad "a file was written"
run "$M" report $A --format csv --out r3dir --sign stranger.key --record
want_rc 6
[ ! -e r3dir ] || bad "the CSV folder was made"
[ "$(size)" = "$n0" ] || bad "an entry was appended"
end

begin "--record with an --out whose name cannot be a subject exits 2"
run "$M" report $A --format html --out 'bad name.html' --sign carol.key --record
want_err 2 'subject'
[ ! -e 'bad name.html' ] || bad "written"
end

# ---- --record --------------------------------------------------------------

begin "--record appends a report entry: digest = sha256sum, period, as-of, format, policies"
run "$M" report $A --format html --out rec.html --sign carol.key --record --policy production \
	--as-of 2026-12-07T00:00:00Z
want_rc 0
want_out '^report: rec.html recorded at seq [0-9]+$'
seq=$(sed -n 's/^report: rec.html recorded at seq \([0-9]*\)$/\1/p' "$OUT")
stmt "$seq" >rec.stmt
sum=$(sha256sum rec.html | cut -c1-64)
[ "$(jget rec.stmt 'd["predicateType"]')" = https://mlledger.dev/report/v1 ] || bad "predicateType"
[ "$(jget rec.stmt 'd["subject"][0]["name"]')" = rec.html ] || bad "subject name"
[ "$(jget rec.stmt 'd["subject"][0]["digest"]["sha256"]')" = "$sum" ] || bad "digest is not sha256sum of the file"
[ "$(jget rec.stmt 'd["predicate"]["from"]+"/"+d["predicate"]["to"]')" = 2026-01-01/2026-12-31 ] || bad "period"
[ "$(jget rec.stmt 'd["predicate"]["asOf"]')" = 2026-12-07T00:00:00Z ] || bad "asOf"
[ "$(jget rec.stmt 'd["predicate"]["time"]')" = 2026-12-01T00:00:00Z ] || bad "time (generatedAt)"
[ "$(jget rec.stmt 'd["predicate"]["format"]')" = html ] || bad "format"
psum=$(sha256sum "$REPO/policies/production.xml" | cut -c1-64)
[ "$(jget rec.stmt '[p["id"]+" "+p["sha256"] for p in d["predicate"]["policies"]][0]')" = "production $psum" ] ||
	bad "policies: $(jget rec.stmt 'd["predicate"]["policies"]')"
"$M" log --kind report --subject rec.html | grep -q "carol+" || bad "log --kind report does not list it by carol"
grep -q 'Recorded in the ledger as a report entry' rec.html || bad "the sign-off does not say recorded"
run "$M" verify-report rec.html --key carol.pub
want_rc 0
end

begin "--record of a CSV folder: the digest is the manifest's"
run "$M" report $A --format csv --out recdir --sign carol.key --record
want_rc 0
seq2=$(sed -n 's/^report: recdir recorded at seq \([0-9]*\)$/\1/p' "$OUT")
[ -n "$seq2" ] && stmt "$seq2" >recdir.stmt || bad "no seq"
[ "$(jget recdir.stmt 'd["subject"][0]["digest"]["sha256"]')" = "$(sha256sum recdir/MANIFEST.sig.json | cut -c1-64)" ] ||
	bad "digest is not the manifest's"
[ "$(jget recdir.stmt 'd["predicate"]["format"]')" = csv-folder ] || bad "format"
end

begin "verify-report --in-ledger names the entry; an unrecorded report exits 1"
run "$M" verify-report rec.html --key carol.pub --in-ledger
want_rc 0
want_out "^recorded: entry $seq, appended [0-9T:Z-]+, by carol\+[0-9a-f]{8}: rec.html, html, 2026-01-01 to 2026-12-31\$"
run "$M" verify-report recdir --key carol.pub --in-ledger
want_rc 0
want_out "^recorded: entry $seq2, "
run "$M" verify-report s.html --key carol.pub --in-ledger
want_err 1 'not recorded in this ledger'
end

begin "mlledger verify passes on the ledger with report entries"
run "$M" verify
want_rc 0
end

begin "the independent verifier accepts the ledger with report entries"
if "$PY" -c 'import nacl.signing' 2>/dev/null; then
	run "$PY" "$REPO/tests/interop/verify_ledger.py" "$L"
	want_rc 0
	want_out '^ok [0-9]+ entries'
	# and it can fail: the forged ledger below is refused by it too
else
	skipping "PyNaCl (python3-nacl) absent"
fi
end

begin "the same report entry again is the entry it repeats (idempotent)"
"$M" show "$seq" --format json | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["envelope"]))' >rec.env
n1=$(size)
run "$M" submit rec.env
want_rc 0
grep -q "already recorded at seq $seq\|seq $seq" "$OUT" "$ERR" || bad "not answered with seq $seq: $(snip "$OUT") $(snip "$ERR")"
[ "$(size)" = "$n1" ] || bad "a second entry was appended"
end

begin "--record --server: the report is of the server's mirror, the entry is posted there"
SRV=$W/srv.db
cp "$L" "$SRV" && cp "$L.log.key" "$SRV.log.key"
"$M" --ledger "$SRV" log-key >log.pub
"$M" serve --listen 127.0.0.1:0 --ledger "$SRV" --ready-file "$W/srv.url" 2>"$W/srv.log" &
SRV_PID=$!
trap 'kill "$SRV_PID" 2>/dev/null; [ -n "${KEEP:-}" ] || { cd / && rm -rf "$W"; }' EXIT
for i in $(seq 1 200); do [ -s "$W/srv.url" ] && break; sleep 0.1; done
if [ -s "$W/srv.url" ]; then
	URL=$(cat "$W/srv.url")
	ns=$("$M" --ledger "$SRV" log --format json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
	run "$M" report $A --format md --out srv.md --sign carol.key --record --server "$URL" \
		--log-key log.pub --mirror "$W/mirror.db"
	want_rc 0
	want_out '^report: srv.md recorded at seq [0-9]+$'
	sseq=$(sed -n 's/^report: srv.md recorded at seq \([0-9]*\)$/\1/p' "$OUT")
	[ "$("$M" --ledger "$SRV" log --format json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" = $((ns + 1)) ] ||
		bad "the server's ledger did not grow by one"
	"$M" --ledger "$SRV" show "${sseq:-0}" --format json >srv.show 2>/dev/null
	[ "$(jget srv.show 'd["statement"]["subject"][0]["digest"]["sha256"]')" = "$(sha256sum srv.md | cut -c1-64)" ] ||
		bad "the server's entry does not hold sha256sum of srv.md"
	# refused through the server too, before any file is written
	run "$M" report $A --format md --out srv2.md --sign eng.key --record --server "$URL" \
		--log-key log.pub --mirror "$W/mirror.db"
	want_err 6 'may not sign report entries'
	[ ! -e srv2.md ] || bad "srv2.md written"
else
	bad "the server did not start: $(snip "$W/srv.log")"
fi
kill "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
end

begin "a recorded report edited afterwards: verify-report fails, the digest no longer matches"
sed 's/Audit report/Audit rep0rt/' rec.html >rec.edit && cat rec.edit >rec.html
run "$M" verify-report rec.html --key carol.pub
want_err 4 'not the signed ones'
[ "$(sha256sum rec.html | cut -c1-64)" != "$(jget rec.stmt 'd["subject"][0]["digest"]["sha256"]')" ] ||
	bad "the edited file still has the recorded digest"
end

begin "a failure at each late SQLite step: nothing written, or files written and said NOT appended"
SHIM=${FAULT_SHIM:-$REPO/build/faults/fault_step.so}
if [ -f "$SHIM" ]; then
	# an ASan build (make check) accepts the preloaded shim as faults/run.sh does
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	FL=$W/fault.db
	cp "$L" "$FL.base" && cp "$L.log.key" "$FL.log.key"
	B="--from 2026-01-01 --to 2026-12-31 --generated-at 2026-12-02T00:00:00Z"
	fsize() { "$M" --ledger "$FL" log --format json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
	cp "$FL.base" "$FL"
	nb=$(fsize)
	MLLEDGER_FAULT_COUNT=$W/fault.count LD_PRELOAD=$SHIM "$M" --ledger "$FL" report $B \
		--format md --out f.md --sign carol.key --record >/dev/null 2>&1 || bad "the run without a fault failed"
	steps=$(cat "$W/fault.count" 2>/dev/null || echo 0)
	[ "$steps" -gt 40 ] || bad "only $steps steps counted"
	after=0
	for i in $(seq $((steps - 40)) $((steps - 1))); do
		cp "$FL.base" "$FL"
		rm -f f.md f.md.sig.json
		MLLEDGER_FAULT_AT=$i LD_PRELOAD=$SHIM "$M" --ledger "$FL" report $B --format md \
			--out f.md --sign carol.key --record >"$OUT" 2>"$ERR"
		RC=$?
		n=$(fsize)
		if [ "$RC" = 0 ]; then
			[ "$n" = $((nb + 1)) ] && [ -s f.md ] || bad "step $i: exit 0 without file and entry"
		elif [ -e f.md ] || [ -e f.md.sig.json ]; then
			# written, not appended: said so, and nothing in the ledger
			grep -q 'report was written and signed, but its entry was NOT appended' "$ERR" ||
				bad "step $i: files left without saying the entry is missing: $(snip "$ERR")"
			[ "$n" = "$nb" ] || bad "step $i: exit $RC but the ledger grew"
			after=$((after + 1))
		else
			grep -q 'no file was written\|^mlledger: report: ' "$ERR" || bad "step $i: $(snip "$ERR")"
			[ "$n" = "$nb" ] || bad "step $i: exit $RC, no file, but the ledger grew"
		fi
	done
	[ "$after" -gt 0 ] || bad "no fault hit the append after the files were written"
	# the remedy the message gives: the same command again with --force
	run "$M" --ledger "$FL" report $B --format md --out f.md --sign carol.key --record --force
	want_rc 0
	[ "$(fsize)" = $((nb + 1)) ] || bad "--force did not append the entry"
else
	skipping "$SHIM absent (make build/faults/fault_step.so)"
fi
end

# ---- malformed report entries --------------------------------------------

if "$PY" -c 'import sqlite3, nacl.signing' 2>/dev/null; then
	begin "a report entry with a malformed predicate is refused by submit"
	# format "pdf" is not one of the five
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["predicate"]["format"]="pdf"; sys.stdout.write(json.dumps(d,separators=(",",":")))' rec.stmt >bad.stmt
	"$PY" "$here/forge.py" sign-envelope carol.key <bad.stmt >bad.env || bad "forge sign-envelope"
	n2=$(size)
	run "$M" submit bad.env
	want_err 2 'format'
	[ "$(size)" = "$n2" ] || bad "appended"
	end

	begin "a malformed report entry forged into the ledger fails verify"
	cp "$L" forged.db && cp "$L.log.key" forged.db.log.key
	"$PY" "$here/forge.py" replace forged.db "$seq" <bad.env &&
		"$PY" "$here/forge.py" rebuild forged.db chain tree sign=forged.db.log.key ||
		bad "forge"
	run "$M" verify --ledger forged.db
	want_rc 4
	grep -q "entry $seq" "$OUT" "$ERR" || bad "does not name entry $seq: $(snip "$ERR")"
	run "$PY" "$REPO/tests/interop/verify_ledger.py" forged.db
	want_rc 1
	grep -q "bad entry $seq: report.format" "$OUT" "$ERR" ||
		bad "independent verifier: $(snip "$OUT") $(snip "$ERR")"
	end
else
	begin "malformed report entries refused by submit and verify"
	skipping "python3 with PyNaCl is missing"
	end
fi

echo "$PASS passed, $FAIL failed"
[ "$SKIPPED" = 0 ] || echo "$SKIPPED skipped (not run here: see the # SKIP lines)"
[ "$FAIL" = 0 ]
