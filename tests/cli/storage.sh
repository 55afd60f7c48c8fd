#!/bin/sh
# tests/cli/storage.sh — import's appender and storage (issue 18, part D).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/storage.sh
#
# A new ledger has 16 KiB pages; a ledger made before (tests/data/legacy,
# 4 KiB pages) keeps its page size through an import and still verifies.
# An import of several chunks (64 lines each) writes exactly the envelopes
# ml_envelope_sign writes: the canonical encoding, each signature valid
# (Ed25519 signatures are deterministic, so that is the same bytes).  A
# refused line in a later chunk writes nothing.  Prints "ok - NAME" /
# "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/storage.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" storage
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1
sha() { printf %s "$1" | sha256sum | cut -c1-64; }

# lines N FROM: N dataset lines, subjects ds-FROM@1 on
lines() {
	i=$2
	while [ "$i" -lt $(($2 + $1)) ]; do
		printf '{"kind":"dataset","subject":"ds-%d@1","digest":"sha256:%s"}\n' "$i" \
			"$(sha "data-$i")"
		i=$((i + 1))
	done
}
count() { "$M" --ledger "$1" log --format json 2>/dev/null | grep -o '"seq":' | wc -l; }

"$M" key new admin >/dev/null 2>&1 && "$M" key new ci >/dev/null 2>&1 &&
	"$M" --ledger new.db init --key admin.key --origin storage.example/new >/dev/null 2>&1 &&
	"$M" --ledger new.db key enroll ci.pub --holder-key ci.key --role engineer \
		--key admin.key >/dev/null 2>&1 ||
	{ nok setup "init failed"; finish; }
lines 200 0 >many.jsonl

expect 0 "an import of 200 lines (4 chunks)" '^200 entries, 2..201' \
	"$M" --ledger new.db import many.jsonl --key ci.key
expect 0 "and the ledger verifies" '^ok: 202 entries intact' "$M" --ledger new.db verify

if [ "$HAVE_SQLITE" = 1 ]; then
	ps=$(sqlite3 new.db 'PRAGMA page_size')
	[ "$ps" = 16384 ] && ok "a new ledger has 16 KiB pages" ||
		nok "a new ledger has 16 KiB pages" "page_size $ps"
else
	skip "a new ledger has 16 KiB pages" "no sqlite3"
fi

# The stored envelopes are canonical (FORMAT.md §3: the bytes encode_raw
# writes); verify checked each signature, so they are ml_envelope_sign's.
if [ -n "$PY" ]; then
	if res=$("$PY" - new.db <<'EOF' 2>&1
import base64, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = bad = 0
for seq, env in db.execute("SELECT seq, envelope FROM entries WHERE seq > 1 ORDER BY seq"):
    e = json.loads(env)
    s = e["signatures"]
    want = ('{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}'
            % (e["payload"], e["payloadType"], s[0]["keyid"], s[0]["sig"])).encode()
    base64.b64decode(e["payload"], validate=True)
    n += 1
    if bytes(env) != want or len(s) != 1:
        bad += 1
        print("entry %d not canonical" % seq)
print("%d envelopes, %d not canonical" % (n, bad))
sys.exit(1 if bad or n != 200 else 0)
EOF
	); then
		ok "the imported envelopes are canonical ($res)"
	else
		nok "the imported envelopes are canonical" "$res"
	fi
else
	skip "the imported envelopes are canonical" "no python3"
fi

# A refused line (a dataset version recorded again with another digest) in
# the fourth chunk: nothing of the file is written.
n0=$(count new.db)
{ lines 150 1000; lines 1 3 | sed "s/$(sha data-3)/$(sha other)/"; lines 49 1150; } >bad.jsonl
expect 2 "a refused line in a later chunk names its line" \
	'bad.jsonl:151: dataset ds-3@1 was recorded at entry 5 with another digest' \
	"$M" --ledger new.db import bad.jsonl --key ci.key
n1=$(count new.db)
[ "$n1" = "$n0" ] && ok "and nothing of the file is written" ||
	nok "and nothing of the file is written" "entries $n0 -> $n1"
expect 0 "the ledger still verifies" '^ok: 202 entries intact' "$M" --ledger new.db verify

# A ledger made before keeps its page size.
LEG=$here/../data/legacy
mkdir legacy && cp "$LEG/ledger-v1.db" "$LEG/ledger-v1.db.log.key" "$LEG/admin.key" legacy/
before=
[ "$HAVE_SQLITE" = 1 ] && before=$(sqlite3 legacy/ledger-v1.db 'PRAGMA page_size')
lines 70 5000 >legacy.jsonl
expect 0 "an import into a ledger made before (tests/data/legacy)" '^70 entries' \
	"$M" --ledger legacy/ledger-v1.db import legacy.jsonl --key legacy/admin.key
expect 0 "which still verifies" '^ok: ' "$M" --ledger legacy/ledger-v1.db verify
if [ "$HAVE_SQLITE" = 1 ]; then
	after=$(sqlite3 legacy/ledger-v1.db 'PRAGMA page_size')
	[ "$before" = 4096 ] && [ "$after" = 4096 ] &&
		ok "and keeps its 4 KiB pages" ||
		nok "and keeps its 4 KiB pages" "page_size $before -> $after"
else
	skip "and keeps its 4 KiB pages" "no sqlite3"
fi

finish
