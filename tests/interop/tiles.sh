#!/bin/sh
# tests/interop/tiles.sh — `mlledger serve` read as a C2SP tlog-tiles log by
# code that is not ours: Go's golang.org/x/mod/sumdb/tlog tile reader
# (tlog.TileHashReader) and note verifier, in tests/interop/go/check.go
# ("check tiles").  The ledger spans several level-0 tiles and a partial
# level-1 tile; the server is checked before and after more appends, and a
# server that serves another log's tiles under the pinned key is refused.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/interop/tiles.sh
#
# Needs go and Debian's golang-golang-x-mod-dev (else a visible SKIP).
if [ -z "${BASH_VERSION:-}" ]; then
	if command -v bash >/dev/null 2>&1; then exec bash "$0" "$@"; fi
	echo "not ok - environment: tests/interop/tiles.sh needs bash"
	exit 1
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../cli/harness.sh" tiles
. "$HERE/../cli/serverlib.sh"

GOSRC=/usr/share/gocode/src/golang.org/x/mod/sumdb
if ! command -v go >/dev/null 2>&1 || [ ! -f "$GOSRC/tlog/tile.go" ]; then
	skip "go tile reader" "install golang-go golang-golang-x-mod-dev"
	finish
	exit $?
fi
mkdir -p go/cache go/home go/tmp
if ! env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$W/go/cache" HOME="$W/go/home" \
	GOTMPDIR="$W/go/tmp" GOPROXY=off GOFLAGS= GOENV=off GOTOOLCHAIN=local CGO_ENABLED=0 \
	go build -o "$W/check" "$HERE/go/check.go" >go/build.log 2>&1; then
	nok "build tests/interop/go/check.go" "$(head -c 400 go/build.log)"
	finish
	exit $?
fi
ok "built tests/interop/go/check.go with $(go version | cut -d' ' -f3)"

mkledger() { # NAME ORIGIN ENTRIES
	"$M" key new "$1-admin" >/dev/null 2>&1 && "$M" key new "$1-ci" >/dev/null 2>&1 &&
		"$M" --ledger "$1.db" init --key "$1-admin.key" --origin "$2" >/dev/null 2>&1 &&
		"$M" --ledger "$1.db" key enroll "$1-ci.pub" --holder-key "$1-ci.key" --role engineer \
			--key "$1-admin.key" >/dev/null 2>&1 &&
		for i in $(seq 1 "$3"); do
			printf '{"kind":"dataset","subject":"bulk@%d","digest":"sha256:%064d"}\n' "$i" "$i"
		done >"$1.jsonl" &&
		"$M" --ledger "$1.db" import "$1.jsonl" --key "$1-ci.key" >/dev/null 2>&1 &&
		"$M" --ledger "$1.db" log-key >"$1.pub"
}
# 702 entries (genesis, an enrolment, 700 datasets): two full level-0
# tiles, a partial one (190), a partial level-1 tile of width 2, and entry
# bundles to match.
mkledger a tiles.example/a 700 || { nok setup "ledger a"; finish; exit 1; }
serve_start a a.db || { nok setup "serve a"; finish; exit 1; }
UA=$SERVE_URL

expect 0 "x/mod's tile reader reads the served log: root, entries, record proofs" \
	"ok tiles.example/a size 702" "$W/check" tiles a.pub "$UA"

# More entries through the server itself, then read again: partial tiles
# have grown, full ones must be unchanged (immutable).
curl -s "$UA/tile/0/000" >tile0.before
for i in 1 2 3; do
	"$M" --ledger a.db sign dataset "more@$i" --digest "sha256:$(printf '%064d' "$i")" \
		--key a-ci.key --out "m$i.dsse" >/dev/null 2>&1
	curl -s -o /dev/null --data-binary "@m$i.dsse" "$UA/add"
done
expect 0 "read again after appends through the server" "ok tiles.example/a size 705" \
	"$W/check" tiles a.pub "$UA"
if cmp -s tile0.before <(curl -s "$UA/tile/0/000"); then
	ok "a full tile is byte-identical before and after appends"
else
	nok "tile immutability" "tile/0/000 changed"
fi

# A served entry edited in the database after the fact (its tree nodes and
# checkpoint untouched): the bundle no longer hashes to the tile's leaf.
serve_stop a
cp a.db c.db && cp a.db.log.key c.db.log.key
/usr/bin/python3 - c.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER entries_append_only_u")
env = bytearray(db.execute("SELECT envelope FROM entries WHERE seq = 301").fetchone()[0])
i = env.index(b'"payload":"') + 20          # a base64 character of the payload
env[i] = ord('A') if env[i] != ord('A') else ord('B')
db.execute("UPDATE entries SET envelope = ? WHERE seq = 301", (bytes(env),))
db.commit()
PY
serve_start c c.db || { nok setup "serve c"; finish; exit 1; }
expect 1 "an edited entry is refused by the Go reader" "entry 301: its record hash" \
	"$W/check" tiles a.pub "$SERVE_URL"
serve_stop c

# Another log under the pinned key's name: the checkpoint's signature fails.
mkledger b tiles.example/a 10 || { nok setup "ledger b"; finish; exit 1; }
serve_start b b.db || { nok setup "serve b"; finish; exit 1; }
expect 1 "another log's server is refused under a's key" "bad: note" \
	"$W/check" tiles a.pub "$SERVE_URL"
finish
