#!/bin/sh
# tests/cli/formats.sh — --format json for every command, and errors that
# name the option the user typed (docs/CLI.md).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/formats.sh
#
# Every command that prints a result is run with --format json: its stdout
# must parse (python3 json.loads; one value, or JSON lines where docs/CLI.md
# says so) and hold the members docs/CLI.md lists for it.  The commands
# whose output is itself a file format refuse --format json with exit 2
# and one line naming --format json and the values allowed.  No output
# holds secret key material.  Errors about values from options name the
# option (--env is required) and list the allowed values.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/formats.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
[ -n "${1:-}" ] && MLLEDGER=$1
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" formats
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# Every stdout of a json run is kept, for the secret scan at the end.
mkdir -p outs
nout=0

# json NAME MODE MEMBERS CMD...: CMD exits 0; stdout is MODE (one: one JSON
# object; array: one array of objects; lines: one object a line, at least
# one); every object has every member of MEMBERS (space-separated; a
# member "a=V" must equal the JSON value V).
json() {
	local name=$1 mode=$2 members=$3 got
	shift 3
	"$@" >out 2>err
	got=$?
	nout=$((nout + 1))
	cp out "outs/$nout"
	if [ "$got" != 0 ]; then
		nok "$name" "exit $got: $(head -c 300 err)"
		return
	fi
	if msg=$("$PY" - "$mode" "$members" out <<'EOF' 2>&1
import json, sys
mode, members, path = sys.argv[1], sys.argv[2].split(), sys.argv[3]
text = open(path, encoding="utf-8").read()
if mode == "lines":
    lines = text.splitlines()
    if not lines or text[-1:] != "\n":
        sys.exit("want JSON lines, got %r" % text[:200])
    objs = [json.loads(l) for l in lines]
elif mode == "array":
    v = json.loads(text)
    if not isinstance(v, list) or not v:
        sys.exit("want a non-empty array")
    objs = v
else:
    v = json.loads(text)
    objs = [v]
for o in objs:
    if not isinstance(o, dict):
        sys.exit("want objects, got %r" % (o,))
    for m in members:
        k, _, want = m.partition("=")
        if k not in o:
            sys.exit("member %s missing in %s" % (k, json.dumps(o)[:200]))
        if want and o[k] != json.loads(want):
            sys.exit("member %s is %r, want %s" % (k, o[k], want))
EOF
	); then
		ok "$name"
	else
		nok "$name" "$msg"
	fi
}

# refused NAME CMD...: exit 2, one line on stderr naming --format json and
# what is allowed, nothing on stdout.
refused() {
	local name=$1 got
	shift
	"$@" >out 2>err
	got=$?
	if [ "$got" != 2 ]; then
		nok "$name" "exit $got, want 2: $(head -c 300 err)"
	elif ! grep -q -- "--format json: not accepted, .* (allowed: text)$" err; then
		nok "$name" "stderr lacks the refusal: $(head -c 300 err)"
	elif [ "$(wc -l <err)" != 1 ] || [ -s out ]; then
		nok "$name" "want one line on stderr and nothing on stdout"
	else
		ok "$name"
	fi
}

# fails NAME CODE REGEX CMD...: exit CODE, exactly one stderr line matching
# the extended REGEX.
fails() {
	local name=$1 want=$2 pat=$3 got
	shift 3
	"$@" >out 2>err
	got=$?
	if [ "$got" != "$want" ]; then
		nok "$name" "exit $got, want $want: $(head -c 300 err)"
	elif ! grep -Eq -- "$pat" err; then
		nok "$name" "stderr lacks '$pat': $(head -c 300 err)"
	elif [ "$(wc -l <err)" != 1 ]; then
		nok "$name" "want one line on stderr: $(head -c 300 err)"
	else
		ok "$name"
	fi
}

S1='seq leafHash time'
mkdir -p keys l
export MLLEDGER_LEDGER=$W/l/ledger.db

# ---- keys and the ledger ----------------------------------------------------
json "key new --format json: name, keyid, public key, both file names" one \
	'name="admin" keyid publicKey publicKeyFile="keys/admin.pub" secretKeyFile="keys/admin.key" encrypted=false' \
	"$M" key new admin --dir keys --format json
grep -q '"publicKey":"admin+[0-9a-f]\{8\}+' out && ok "key new: publicKey is the verifier key line" ||
	nok "key new: publicKey is the verifier key line" "$(cat out)"
echo "correct horse" >pass.txt
json "key new --format json of an encrypted key says so" one 'encrypted=true' \
	"$M" key new enc --dir keys --passphrase-file pass.txt --format json
for k in ci val app w aud; do "$M" key new $k --dir keys >/dev/null || exit 1; done
# the text output stays as it was
"$M" key new txt --dir keys >out || exit 1
if [ "$(sed -n 1p out)" = "keys/txt.key" ] && grep -Eq '^keys/txt\.pub txt\+[0-9a-f]{8}\+' out &&
	[ "$(wc -l <out)" = 2 ]; then
	ok "key new text output unchanged"
else
	nok "key new text output unchanged" "$(cat out)"
fi
json "init --format json: ledger, log key file, genesis seq 0" one \
	"ledger=\"$MLLEDGER_LEDGER\" logKeyFile=\"$MLLEDGER_LEDGER.log.key\" seq=0 leafHash time" \
	"$M" init --key keys/admin.key --format json
json "key possess --format json: the file written" one 'file="app.pop"' \
	"$M" key possess --key keys/app.key --ledger "$MLLEDGER_LEDGER" --out app.pop --format json
json "key enroll --format json: the entry" one "$S1 seq=1" \
	"$M" key enroll keys/ci.pub --holder-key keys/ci.key --role engineer --key keys/admin.key \
	--format json
for k in val:validator aud:auditor; do
	"$M" key enroll keys/${k%:*}.pub --holder-key keys/${k%:*}.key --role ${k#*:} \
		--key keys/admin.key >/dev/null || exit 1
done
json "key enroll --possession --format json" one "$S1" \
	"$M" key enroll keys/app.pub --possession app.pop --role approver --key keys/admin.key \
	--format json
json "key enroll --out --format json: the file written" one 'file="w.env"' \
	"$M" key enroll keys/w.pub --holder-key keys/w.key --role engineer --key keys/admin.key \
	--out w.env --format json
json "submit --format json: JSON lines, one per file" lines "$S1" "$M" submit w.env --format json
json "key revoke --format json: the entry" one "$S1" \
	"$M" key revoke w --reason rotated --key keys/admin.key --format json
json "key list --format json" array 'keyid name key roles enrolledSeq revokedSeq person' \
	"$M" key list --format json
json "governance show --format json" one 'seq governed document' "$M" governance show --format json
"$M" governance show --default --format json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); json.dump(d["document"] if "document" in d else d, open("gov.json","w"))' ||
	nok "governance show --default --format json" "no document"
json "governance set --format json: the entry" one "$S1" \
	"$M" governance set gov.json --key keys/admin.key --format json

# ---- recording --------------------------------------------------------------
echo "rows" >d.bin
echo "weights" >m.bin
json "record dataset --format json" one "$S1" \
	"$M" record dataset d@1 --file d.bin --key keys/ci.key --format json
json "record model --format json" one "$S1" \
	"$M" record model m@1 --artifact m.bin --dataset d@1 --key keys/ci.key --format json
json "record --idempotency-key retry --format json says alreadyRecorded" one \
	"$S1 alreadyRecorded=true message" \
	sh -c '"$1" record evaluation m@1 --metric auc=0.9 --dataset d@1 --idempotency-key ev1 --key keys/val.key >/dev/null &&
	       "$1" record evaluation m@1 --metric auc=0.9 --dataset d@1 --idempotency-key ev1 --key keys/val.key --format json' \
	sh "$M"
json "sign --format json: the file written" one 'file="dep.env"' \
	"$M" sign deployment m@1 --env staging --key keys/ci.key --out dep.env --format json
json "sign --countersign --format json: the file written" one 'file="dep2.env"' \
	"$M" sign --countersign dep.env --key keys/val.key --out dep2.env --format json
printf '%s\n' '{"kind":"deployment","subject":"m@1","environment":"dev"}' \
	'{"kind":"monitoring","subject":"m@1","environment":"dev","metrics":{"drift":0.1}}' >batch.jsonl
json "import --format json: first, last, count" one 'first last count=2 leafHash alreadyRecorded' \
	"$M" import batch.jsonl --key keys/ci.key --format json
json "policy lint --format json: JSON lines, one per file" lines 'file ok=true id version warnings' \
	"$M" policy lint "$POL" --format json
json "policy record --format json: the policy and the entry" one "policy $S1" \
	"$M" policy record "$POL" --key keys/admin.key --format json
if command -v faketime >/dev/null 2>&1 &&
	[ "$(faketime -f '+10y' date -u +%Y 2>/dev/null)" -gt "$(($(date -u +%Y) + 5))" ] 2>/dev/null; then
	# faketime preloads its library before an ASan build's runtime (make
	# check): ASan only asks to come first, which is safe to waive here.
	# The dated-ahead entry must really be recorded, or the case below
	# would test nothing.
	if ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime -f '+10y' "$M" record deployment m@1 --env dev --key keys/ci.key >"$W/ahead.out" 2>&1; then
		ok "an entry dated ten years ahead is recorded (faketime)"
	else
		nok "an entry dated ten years ahead is recorded (faketime)" "$(head -c 300 "$W/ahead.out")"
	fi
	json "clock-correct --format json: the entry" one "$S1" \
		"$M" clock-correct --reason "clock ran ahead" --key keys/admin.key --format json
else
	skip "clock-correct --format json: the entry" "faketime is not installed"
fi

# ---- reading ----------------------------------------------------------------
json "log --format json" array 'seq time kind subject keyid leafHash' "$M" log --format json
json "show --format json" one 'seq' "$M" show 3 --format json
json "verify --format json" one 'ok=true entries head' "$M" verify --format json
json "digest --format json" one 'digest type="file" size' "$M" digest d.bin --format json
json "gate --format json (exit 0 or 1: a decision)" one '' \
	sh -c '"$1" gate --policy "$2" m@1 --env staging --format json; [ $? -le 1 ]' sh "$M" "$POL"
json "live --format json" one '' "$M" live --env dev --format json
json "trace --format json" one '' "$M" trace 4 --format json
json "population --format json" one '' "$M" population --format json

# ---- transparency -----------------------------------------------------------
"$M" checkpoint >c1.ckpt && "$M" log-key >log.pub && "$M" prove 4 >p4.proof &&
	"$M" show 4 --format raw >leaf4 || exit 1
json "verify-proof --format json" one 'ok=true index=4 origin' \
	"$M" verify-proof --log-key log.pub p4.proof leaf4 --format json
"$M" record deployment m@1 --env staging --key keys/ci.key >/dev/null || exit 1
"$M" checkpoint >c2.ckpt && "$M" prove --consistency "$(sed -n 2p c1.ckpt)" >cons.proof || exit 1
json "verify-consistency --format json" one \
	"ok=true origin oldSize=$(sed -n 2p c1.ckpt) newSize=$(sed -n 2p c2.ckpt)" \
	"$M" verify-consistency --log-key log.pub c1.ckpt c2.ckpt cons.proof --format json
json "export --format json: the folder, its files, the signer" one 'out="ex" files signedBy' \
	"$M" export --out ex --key keys/admin.key --format json
"$PY" - <<'EOF' && ok "export --format json lists the files the folder holds" ||
import json, os
d = json.load(open("out"))
for f in d["files"]:
    assert os.path.exists(os.path.join("ex", f.rstrip("/"))), f
EOF
	nok "export --format json lists the files the folder holds" "$(cat out)"

# ---- a ledger server's client --------------------------------------------------
. "$here/serverlib.sh"
if serve_start fj "$MLLEDGER_LEDGER"; then
	json "mirror --format json: the copy, its entries" one 'mirror="mir.db" entries new created=true' \
		"$M" mirror --server "$SERVE_URL" --log-key log.pub --out mir.db --format json
	serve_stop fj
else
	nok "mirror --format json: the copy, its entries" "the server did not start"
fi

# ---- reports ----------------------------------------------------------------
today=$(date -u +%Y-%m-%d)
"$M" report --from "$today" --to "$today" --format md --out r.md --sign keys/aud.key --record \
	>/dev/null 2>err || nok "report --sign --record" "$(tail -c 300 err)"
json "verify-report --format json: signer, scope, files" one \
	'ok=true report="r.md" signedBy format="md" generatedAt scope files' \
	"$M" verify-report r.md --key keys/aud.pub --format json
json "verify-report --in-ledger --format json: the report entries" one 'ok=true recorded' \
	"$M" verify-report r.md --key keys/aud.pub --in-ledger --format json
"$PY" -c 'import json; d=json.load(open("out")); assert len(d["recorded"]) == 1 and d["recorded"][0]["reportSigner"] is True' &&
	ok "verify-report --in-ledger --format json names the entry" ||
	nok "verify-report --in-ledger --format json names the entry" "$(cat out)"

# ---- refusals: outputs that are themselves a file format --------------------
refused "checkpoint --format json is refused" "$M" checkpoint --format json
refused "log-key --format json is refused" "$M" log-key --format json
refused "prove --format json is refused" "$M" prove 1 --format json
refused "evidence --format json is refused" "$M" evidence m@1 --format json
refused "witness-key --format json is refused" "$M" witness-key --key keys/w.key --format json
refused "cosign --format json is refused" "$M" cosign --key keys/w.key --log-key log.pub \
	--state st c1.ckpt --init --format json
refused "serve --format json is refused" timeout 10 "$M" serve --listen 127.0.0.1:1 --format json
fails "sample refuses any --format" 2 '^mlledger: sample: --format: not accepted, ' \
	"$M" sample --population x --n 1 --seed s --format json
fails "an unknown --format lists the values" 2 '^mlledger: key list: --format: must be one of text, json$' \
	"$M" key list --format yaml
fails "show --format lists raw too" 2 '^mlledger: show: --format: must be one of text, json, raw$' \
	"$M" show 1 --format xml
fails "checkpoint --format text still works" 0 '' sh -c '"$1" checkpoint --format text >/dev/null; echo x >&2' sh "$M"

# ---- errors name the option and list the values ----------------------------
fails "a missing --env is named as the option" 2 '^mlledger: record: --env is required$' \
	"$M" record approval m@1 --decision approve --key keys/app.key
fails "a bad --decision lists the values" 2 \
	'^mlledger: record: --decision: must be one of approve, reject$' \
	"$M" record approval m@1 --env prod --decision maybe --key keys/app.key
fails "a bad --severity lists the values" 2 \
	'^mlledger: record: --severity: must be one of low, medium, high, critical$' \
	"$M" record incident m@1 --severity urgent --description x --key keys/ci.key
fails "a missing --description is named as the option" 2 '^mlledger: record: --description is required$' \
	"$M" record incident m@1 --severity low --key keys/ci.key
fails "a missing --metric is named as the option" 2 '^mlledger: record: --metric is required$' \
	"$M" record evaluation m@1 --key keys/val.key
fails "a bad --env value is named as the option" 2 '^mlledger: record: --env: must be ' \
	"$M" record deployment m@1 --env 'a b' --key keys/ci.key
fails "a repeated --metric is named as the option" 2 '^mlledger: record: --metric auc: given twice$' \
	"$M" record evaluation m@1 --metric auc=1 --metric auc=2 --key keys/val.key
fails "sign names the option too" 2 '^mlledger: sign: --decision: must be one of approve, reject$' \
	"$M" sign approval m@1 --env prod --decision maybe --key keys/app.key --out x.env
fails "key enroll: a bad --email is named as the option" 2 '^mlledger: key enroll: --email: ' \
	"$M" key enroll keys/txt.pub --holder-key keys/txt.key --role engineer --email x --key keys/admin.key
fails "key enroll: a bad --role is named as the option" 2 '^mlledger: key enroll: --role: ' \
	"$M" key enroll keys/txt.pub --holder-key keys/txt.key --role 'a b' --key keys/admin.key
fails "key revoke: an empty --reason is named as the option" 2 '^mlledger: key revoke: --reason: must not be empty$' \
	"$M" key revoke ci --reason '' --key keys/admin.key
fails "clock-correct: an empty --reason is named as the option" 2 '^mlledger: clock-correct: --reason: must not be empty$' \
	"$M" clock-correct --reason '' --from 1 --key keys/admin.key
fails "log --kind lists the kinds" 2 '^mlledger: log: --kind: unknown kind "modle"; must be one of genesis, .*, model, .*report$' \
	"$M" log --kind modle
# an import names the member, as the file spells it, and its line
printf '%s\n' '{"kind":"deployment","subject":"m@1","environment":"dev"}' \
	'{"kind":"approval","subject":"m@1","environment":"dev","decision":"maybe"}' >bad.jsonl
fails "import: a bad member is named as the file spells it, with its line" 2 \
	'^mlledger: import: bad\.jsonl:2: decision: must be one of approve, reject \(nothing was written\)$' \
	"$M" import bad.jsonl --key keys/app.key
# submit: the file at fault is named by its place in the batch (ml_err.index)
"$M" sign deployment m@1 --env dev --key keys/ci.key --out ok1.env >/dev/null &&
	"$M" sign deployment m@1 --env staging --key keys/ci.key --out ok2.env >/dev/null || exit 1
printf '{"payload":"x","payloadType":"y","signatures":[]}\n' >junk.env
fails "submit: the second file of three is named" 2 '^mlledger: submit: junk\.env: .*\(nothing was written\)$' \
	"$M" submit ok1.env junk.env ok2.env
# import: a statement that conflicts with a held entry is named by its line
# (ml_err.index) and the entry by its seq (ml_err.seq)
HELD=$("$M" record deployment m@1 --env dev --idempotency-key dep-k --key keys/ci.key | cut -d' ' -f1)
printf '%s\n' '{"kind":"deployment","subject":"m@1","environment":"staging"}' \
	'{"kind":"deployment","subject":"m@1","environment":"staging"}' \
	'{"kind":"deployment","subject":"m@1","environment":"staging","idempotencyKey":"dep-k"}' >conflict.jsonl
fails "import: a conflict names its line and the held entry's seq" 7 \
	"^mlledger: import: conflict\.jsonl:3: conflict: .* already recorded at seq $HELD with other content .*\(nothing was written\)$" \
	"$M" import conflict.jsonl --key keys/ci.key
# errors stay one line on stderr in JSON mode, stdout empty
fails "errors in JSON mode stay one line on stderr" 2 '^mlledger: record: --env is required$' \
	"$M" record approval m@1 --decision approve --key keys/app.key --format json
[ -s out ] && nok "errors in JSON mode print nothing on stdout" "$(cat out)" ||
	ok "errors in JSON mode print nothing on stdout"

# ---- no secret key material in any output ------------------------------------
leaks=0
for f in keys/*.key "$MLLEDGER_LEDGER.log.key"; do
	# PRIVATE+KEY+NAME+KEYID+BASE64 (the base64 may hold '+' itself); an
	# encrypted key file: its last field, the sealed secret
	case $(head -c 12 "$f") in
	PRIVATE+KEY+) sec=$(head -1 "$f" | cut -d+ -f5-) ;;
	*) sec=$(head -1 "$f" | awk '{print $NF}') ;;
	esac
	hex=$(printf '%s' "$sec" | base64 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')
	if [ "${#sec}" -lt 40 ] || [ "${#hex}" -lt 42 ]; then
		nok "no secret key material in JSON output" "cannot read the secret of $f"
		leaks=1
		continue
	fi
	for o in outs/*; do
		if grep -qF -- "$sec" "$o" || { [ -n "$hex" ] && grep -qF -- "${hex:2:40}" "$o"; } ||
			grep -q 'PRIVATE+KEY' "$o"; then
			nok "no secret key material in JSON output" "$f in $o"
			leaks=1
		fi
	done
done
[ "$leaks" = 0 ] && ok "no secret key material in any of $nout JSON outputs"

finish
