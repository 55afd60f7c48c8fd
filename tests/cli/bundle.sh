#!/bin/sh
# tests/cli/bundle.sh — the auditor's bundle, attacked (issue 17, findings
# 1, 3 and 4).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/bundle.sh
#
# Before, nothing outside a bundle anchored it: a ledger rebuilt under a new
# log key (entries left out) passed `verify --bundle`, which took the log
# key from the bundle itself, and no file but ledger.db, log.pub, checkpoint
# and keys/ was checked.  Now verify --bundle needs --log-key, --checkpoint
# or --trust (else exit 8 with a warning), and checks a MANIFEST signed by
# the exporter: every file's bytes, nothing else in the folder.  Export
# verifies first and writes nothing on failure; --since adds a consistency
# proof from a checkpoint the auditor held.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/bundle.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" bundle
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1
HAVE_SQLITE=
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
ORIGIN=demo.mlledger.example/fraud

# copy NAME: a fresh copy of the bundle b in NAME
copy() { rm -rf "$1" && cp -r b "$1"; }
# resign DIR [KEY]: a MANIFEST for DIR's files as they are now, signed by
# KEY (default the exporter ci.key): an exporter who changed the bundle.
resign() { "$PY" "$here/forge.py" manifest "$1" "${2:-ci.key}"; }
# verify_4 NAME PATTERN DIR [ANCHOR...]: verify --bundle DIR exits 4
verify_4() {
	local name=$1 pat=$2 dir=$3
	shift 3
	expect 4 "$name" "$pat" "$M" verify --bundle "$dir" ${@:---log-key log.pub}
}

# The team's ledger: two admins' worth of entries, two policies.
export MLLEDGER_LEDGER=$W/l.db
for k in admin ci rita mallory; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key --origin "$ORIGIN" >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null
"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null
"$M" policy record "$here/../../policies/production.xml" --key rita.key >/dev/null
echo data >d.bin
"$M" record dataset d@1 --file d.bin --key ci.key >/dev/null
"$M" checkpoint >held.ckpt
"$M" policy record "$here/../../policies/monitoring.xml" --key rita.key >/dev/null
echo more >d2.bin
"$M" record dataset d@2 --file d2.bin --key ci.key >/dev/null
"$M" log-key >log.pub
N=$("$M" verify 2>/dev/null | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p')
[ -n "$N" ] || { nok "setup" "the ledger does not verify"; finish; exit 1; }
printf 'log %s\nquorum none\n' "$(cat log.pub)" >trust.policy

# ---- export ------------------------------------------------------------

expect 6 "export without --key exits 6" "key EXPORTER.key is required" "$M" export --out x
[ ! -e x ] && ok "export without --key writes nothing" || nok "export without --key writes nothing" "x exists"
expect 6 "export signed by a key the ledger never enrolled exits 6" "not enrolled in this ledger" \
	"$M" export --out x --key mallory.key
[ ! -e x ] && ok "an unenrolled exporter writes nothing" || nok "an unenrolled exporter writes nothing" "x exists"
expect 0 "export --key ci.key" "MANIFEST signed by ci+" "$M" export --out b --key ci.key --trust trust.policy
for f in ledger.db log.pub checkpoint README.txt FORMAT.md MANIFEST MANIFEST.sig trust.policy \
	policies/production@1.1.0.xml policies/monitoring@1.1.0.xml; do
	[ -f "b/$f" ] || nok "export writes $f" "missing"
done
cmp -s b/FORMAT.md "$here/../../ledger/FORMAT.md" && ok "the bundle's FORMAT.md is ledger/FORMAT.md" ||
	nok "the bundle's FORMAT.md is ledger/FORMAT.md" "differs"
cmp -s b/policies/production@1.1.0.xml "$here/../../policies/production.xml" &&
	ok "policies/ID@VERSION.xml holds the recorded bytes" ||
	nok "policies/ID@VERSION.xml holds the recorded bytes" "differs"
grep -q -- '--log-key' b/README.txt && grep -q 'verify-consistency' b/README.txt &&
	! grep -q 'no other input' b/README.txt && ok "README.txt asks for an outside anchor" ||
	nok "README.txt asks for an outside anchor" "$(head -c 200 b/README.txt)"
grep -q "^file [0-9a-f]\{64\} [0-9]* keys/ci+[0-9a-f]\{8\}\.pub\$" b/MANIFEST &&
	grep -q "^origin $ORIGIN\$" b/MANIFEST && grep -q "^size $N\$" b/MANIFEST &&
	ok "MANIFEST lists the files and the scope" || nok "MANIFEST lists the files and the scope" "$(head -c 300 b/MANIFEST)"

# ---- anchors -----------------------------------------------------------

expect 8 "verify --bundle without an anchor exits 8" "" "$M" verify --bundle b
grep -q "nothing outside the bundle was checked" err && [ "$(wc -l <err)" = 1 ] &&
	ok "... with one warning line naming what is missing" || nok "... with one warning line" "$(cat err)"
grep -q "^ok: b/MANIFEST lists every file, signed by the exporter ci+" out &&
	ok "... after checking everything inside" || nok "... after checking everything inside" "$(head -c 300 out)"
expect 0 "verify --bundle --log-key (the auditor's copy) exits 0" "" "$M" verify --bundle b --log-key log.pub
expect 0 "verify --bundle --checkpoint (a held checkpoint) exits 0" "is a prefix" \
	"$M" verify --bundle b --checkpoint held.ckpt
expect 0 "verify --bundle --trust (its log is the bundle's) exits 0" "" \
	"$M" verify --bundle b --trust trust.policy
# An anchor read from inside the bundle comes from whoever made it: refused
# (exit 2), also by a symbolic link from outside, and the bundle's own
# trust.policy (export --trust writes one) among them.
expect 2 "--checkpoint of the bundle's own checkpoint is refused" "inside the bundle" \
	"$M" verify --bundle b --checkpoint b/checkpoint
expect 2 "--log-key of the bundle's own log.pub is refused" "inside the bundle" \
	"$M" verify --bundle b --log-key b/log.pub
expect 2 "--trust of the bundle's own trust.policy is refused" "inside the bundle" \
	"$M" verify --bundle b --trust b/trust.policy
ln -s b/log.pub sneaky.pub
expect 2 "--log-key through a symbolic link into the bundle is refused" "inside the bundle" \
	"$M" verify --bundle ./b/ --log-key sneaky.pub
expect 2 "... also beside a real anchor" "inside the bundle" \
	"$M" verify --bundle b --log-key log.pub --checkpoint b/checkpoint
rm -f sneaky.pub

expect 0 "verify --log-key (no bundle): the ledger's log key is the one held" "" \
	"$M" verify --log-key log.pub
expect 4 "verify --log-key of another key (no bundle) exits 4" "rebuilt under another log key" \
	"$M" verify --log-key mallory.pub

# The forger: the same origin and team keys, a new ledger (so a new log key)
# with the second dataset left out, exported by the same exporter.
(
	export MLLEDGER_LEDGER=$W/forged.db
	"$M" init --key admin.key --origin "$ORIGIN" >/dev/null &&
		"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null &&
		"$M" key enroll rita.pub --holder-key rita.key --role risk-officer --key admin.key >/dev/null &&
		"$M" policy record "$here/../../policies/production.xml" --key rita.key >/dev/null &&
		"$M" record dataset d@1 --file d.bin --key ci.key >/dev/null &&
		"$M" export --out forged --key ci.key >/dev/null
) || nok "setup: the forged bundle" "failed"
expect 8 "a forged bundle (new log key, an entry left out) passes with no anchor: exit 8, not 0" \
	"nothing outside" "$M" verify --bundle forged
verify_4 "the forged bundle with --log-key exits 4" "rebuilt under another log key" forged --log-key log.pub
verify_4 "the forged bundle with --checkpoint exits 4" "not signed by this ledger's log key" forged \
	--checkpoint held.ckpt
verify_4 "the forged bundle with --trust exits 4" "no log of the trust policy" forged --trust trust.policy
# A made-up ledger: other keys altogether, the demo's origin.
(
	mkdir made && cd made && export MLLEDGER_LEDGER=$PWD/m.db &&
		"$M" key new boss >/dev/null && "$M" init --key boss.key --origin "$ORIGIN" >/dev/null &&
		"$M" export --out ../madeup --key boss.key >/dev/null
) || nok "setup: the made-up bundle" "failed"
verify_4 "a made-up ledger with the demo's origin and --log-key exits 4" "rebuilt under another log key" \
	madeup --log-key log.pub

# ---- the manifest and the folder ----------------------------------------

copy t1 && printf 'x' >>"t1/keys/$(cut -d+ -f1,2 ci.pub).pub"
verify_4 "a byte added to a key file exits 4" "keys/ci+[0-9a-f]*\.pub: differs from MANIFEST" t1
copy t2 && printf 'x' >>t2/ledger.db
verify_4 "a byte added to ledger.db exits 4 (before SQLite opens it)" "ledger\.db: differs from MANIFEST" t2
copy t3 && sed -i 's/production/prodution/' t3/policies/production@1.1.0.xml
verify_4 "a policy file changed exits 4" "policies/production@1\.1\.0\.xml: differs from MANIFEST" t3
copy t4 && sed -i 's/^exported .*/exported 2030-01-01T00:00:00Z/' t4/MANIFEST
verify_4 "MANIFEST changed (its signature no longer matches) exits 4" "not a valid signature of MANIFEST" t4
copy t5 && sed -i 's/^\(ci+[0-9a-f]* \)A/\1B/; t; s/^\(ci+[0-9a-f]* \)./\1A/' t5/MANIFEST.sig
verify_4 "MANIFEST.sig changed exits 4" "not a valid signature of MANIFEST" t5
copy t6 && rm t6/MANIFEST.sig
verify_4 "MANIFEST.sig missing exits 4" "MANIFEST.sig" t6
copy t7 && rm t7/MANIFEST
verify_4 "MANIFEST missing exits 4" "MANIFEST: missing" t7
copy t8 && resign t8 mallory.key
verify_4 "MANIFEST signed by a key the ledger never enrolled exits 4" "not an enrolled key" t8
copy t9 && echo notes >t9/notes.txt
verify_4 "an extra file exits 4" "notes\.txt: not listed in MANIFEST" t9
copy t10 && echo x >t10/policies/extra.xml
verify_4 "an extra file in policies/ exits 4" "policies/extra\.xml: not listed in MANIFEST" t10
copy t11 && mkdir t11/sub
verify_4 "a subfolder other than keys/ and policies/ exits 4" "t11/sub: not a regular file" t11
copy t12 && mv t12/checkpoint cp.moved && ln -s "$W/cp.moved" t12/checkpoint
verify_4 "a symbolic link (to the right bytes) exits 4" "t12/checkpoint: a symbolic link" t12
copy t13 && ln -s "$W/b/README.txt" t13/link.txt
verify_4 "an extra symbolic link exits 4" "link\.txt: a symbolic link" t13
copy t14
if mkfifo t14/fifo 2>/dev/null; then
	expect 4 "a FIFO exits 4 (without blocking)" "fifo: not a regular file" \
		timeout 20 "$M" verify --bundle t14 --log-key log.pub
else
	skip "a FIFO exits 4 (without blocking)" "no mkfifo"
fi
copy t15 && rm t15/README.txt
verify_4 "a listed file missing exits 4" "README\.txt: missing" t15
for bad in ../x /etc/passwd keys/../../x .hidden sub/x "keys/a b"; do
	copy t16
	sed -i "s|^\(file [0-9a-f]* [0-9]* \)README.txt\$|\1$bad|" t16/MANIFEST
	verify_4 "MANIFEST naming '$bad' exits 4" "not a file of a bundle\|not a bundle manifest" t16
done
copy t17 && rm t17/FORMAT.md && resign t17
verify_4 "a MANIFEST (re-signed) without FORMAT.md exits 4" "MANIFEST does not list FORMAT\.md" t17
copy t18 && printf 'junk' >t18/ledger.db-wal
verify_4 "a ledger.db-wal with content (changes SQLite would apply) exits 4" "ledger\.db-wal: holds changes" t18
copy t19 && sed -i 's/production/prodution/' t19/policies/production@1.1.0.xml && resign t19
verify_4 "a policy file changed and re-signed exits 4" "differs from the policy entry [0-9]* recorded" t19
copy t20 && rm t20/policies/monitoring@1.1.0.xml && resign t20
verify_4 "a recorded policy left out (re-signed) exits 4" "monitoring@1\.1\.0\.xml: missing (entry" t20
copy t21 && cp b/policies/production@1.1.0.xml t21/policies/other@9.xml && resign t21
verify_4 "a policy no entry recorded (re-signed) exits 4" "holds a file of no recorded policy" t21
copy t22 && cp mallory.pub "t22/keys/$(cut -d+ -f1,2 mallory.pub).pub" && resign t22
verify_4 "keys/ with a key never enrolled (re-signed) exits 4" "not the file of a key the ledger enrolled" t22
sum=$(cd b && find . -type f | sort | xargs sha256sum | sha256sum)
expect 0 "verify --bundle leaves the bundle's files as they were" "" "$M" verify --bundle b --log-key log.pub
[ "$(cd b && find . -type f | sort | xargs sha256sum | sha256sum)" = "$sum" ] &&
	ok "... byte for byte (ledger.db too)" || nok "... byte for byte" "$(cd b && ls -la)"

# ---- export --since ----------------------------------------------------

expect 0 "export --since HELD writes since.checkpoint and consistency.proof" "consistency\.proof" \
	"$M" export --out s --key ci.key --since held.ckpt
cmp -s s/since.checkpoint held.ckpt && ok "since.checkpoint is the held note" ||
	nok "since.checkpoint is the held note" "differs"
if [ -n "$HAVE_FORGE" ]; then
	"$PY" "$here/forge.py" check-consistency "$(sed -n 2p held.ckpt)" "$(sed -n 3p held.ckpt)" \
		"$(sed -n 2p s/checkpoint)" "$(sed -n 3p s/checkpoint)" <s/consistency.proof &&
		ok "consistency.proof is the RFC 9162 proof (an independent checker)" ||
		nok "consistency.proof is the RFC 9162 proof" "forge.py check-consistency failed"
else
	skip "consistency.proof is the RFC 9162 proof" "no python3 with PyNaCl"
fi
expect 0 "verify --bundle checks the proof of a --since bundle" "" \
	"$M" verify --bundle s --checkpoint held.ckpt
rm -rf s2 && cp -r s s2 && printf '%s\n' "$(head -c 43 /dev/zero | tr '\0' A)=" >s2/consistency.proof &&
	resign s2
verify_4 "a wrong consistency.proof (re-signed) exits 4" "consistency\.proof: does not prove" s2
rm -rf s3 && cp -r s s3 && rm s3/consistency.proof && resign s3
verify_4 "since.checkpoint without consistency.proof exits 4" "without the other" s3
# A fork: the same ledger and log key, then other entries.
cp l.db fork.db && cp l.db.log.key fork.db.log.key 2>/dev/null
echo fork >f.bin
"$M" --ledger fork.db record dataset fork@1 --file f.bin --key ci.key >/dev/null
"$M" --ledger fork.db checkpoint >fork.ckpt
echo main >g.bin
"$M" record dataset main@1 --file g.bin --key ci.key >/dev/null
expect 4 "export --since a checkpoint of a fork exits 4" "--since" \
	"$M" export --out sf --key ci.key --since fork.ckpt
[ ! -e sf ] && [ -z "$(ls -d sf.export-* 2>/dev/null)" ] && ok "... and writes nothing" ||
	nok "... and writes nothing" "$(ls -d sf* 2>/dev/null)"
"$M" --ledger forged.db checkpoint >forged.ckpt
expect 4 "export --since a checkpoint of the forged log (another log key) exits 4" "not signed by" \
	"$M" export --out sf --key ci.key --since forged.ckpt
[ ! -e sf ] && ok "... and writes nothing" || nok "... and writes nothing" "sf exists"

# ---- export verifies before it writes ----------------------------------

if [ -n "$HAVE_SQLITE" ]; then
	cp l.db bad.db && cp l.db.log.key bad.db.log.key 2>/dev/null
	# one entry's time changed, triggers dropped and put back as they were
	trig=$(sqlite3 bad.db "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger'")
	{ sqlite3 bad.db "SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_master WHERE type = 'trigger'"
		echo "UPDATE entries SET appended_us = appended_us + 1 WHERE seq = 3;"
		printf '%s\n' "$trig"; } | sqlite3 -bail bad.db || nok "setup: tamper" "sqlite3 failed"
	expect 4 "export of a ledger that does not verify exits 4" "does not verify (nothing exported)" \
		"$M" --ledger bad.db export --out xb --key ci.key
	[ ! -e xb ] && [ -z "$(ls -d xb.export-* 2>/dev/null)" ] && ok "... and writes nothing" ||
		nok "... and writes nothing" "$(ls -d xb* 2>/dev/null)"
	# keys table names climbing out of the folder: refused, nothing outside
	for col in keyid name; do
		rm -rf pw && mkdir -p pw/x && cp l.db pw/pw.db && cp l.db.log.key pw/pw.db.log.key 2>/dev/null
		sqlite3 pw/pw.db "UPDATE keys SET $col = '../../x/PWNED' WHERE name = 'ci'" 2>/dev/null
		expect 4 "export with a keys table $col '../../x/PWNED' exits 4" "" \
			"$M" --ledger pw/pw.db export --out pw/out --key admin.key
		[ ! -e pw/out ] && [ -z "$(find "$W" -name 'PWNED*')" ] && ok "... and writes no file anywhere" ||
			nok "... and writes no file anywhere" "$(find "$W" -name 'PWNED*')"
	done
	"$M" key revoke ci --reason left --key admin.key >/dev/null
	expect 6 "export signed by a revoked key exits 6" "revoked" "$M" export --out xr --key ci.key
	[ ! -e xr ] && ok "... and writes nothing" || nok "... and writes nothing" "xr exists"
else
	skip "export of a ledger that does not verify exits 4" "no sqlite3"
fi

finish
