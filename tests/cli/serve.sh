#!/bin/sh
# tests/cli/serve.sh — `mlledger serve` (docs/SERVER.md) from the outside,
# with curl and tests/cli/serve_check.py, on 127.0.0.1 only.
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/serve.sh
#
# POST /add answers a tlog-proof that verify-proof accepts for the leaf
# rebuilt from the proof and the envelope; a retry answers the same entry
# (Mlledger-Existing); every refusal class has its status (400, 403 unknown
# and revoked, 409, 413, 405, 404, 414); refused envelopes in a batch leave
# the others in; /checkpoint, /checkpoint/N (404 for sizes never signed),
# every tile and bundle, /consistency agree with the CLI; a slow body is cut while others are served; SIGTERM with appends
# in flight loses no answered entry and the ledger verifies.  Bounded: about
# 30 s.  Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/serve.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" serve
. "$here/serverlib.sh"
PY=${PYTHON:-/usr/bin/python3}
CHECK=$here/serve_check.py
if ! command -v curl >/dev/null 2>&1 || ! [ -x "$PY" ]; then
	echo "not ok - environment: tests/cli/serve.sh needs curl and python3"
	echo "0 passed, 1 failed"
	exit 1
fi
CURL="curl -s --max-time 20"
# post FILE NAME: POST /add of FILE; NAME.code, NAME.body, NAME.hdr
post() {
	$CURL -o "$2.body" -D "$2.hdr" -w '%{http_code}' --data-binary @"$1" "$SERVE_URL/add" \
		>"$2.code" 2>/dev/null
}
code() { cat "$1.code" 2>/dev/null; }
index_of() { sed -n 's/^index \([0-9]*\)$/\1/p' "$1"; }
# status WANT NAME FILE [PATTERN]: POST FILE answers WANT (and PATTERN)
status() {
	local want=$1 name=$2 file=$3 pat=${4:-}
	post "$file" st
	if [ "$(code st)" != "$want" ]; then
		nok "$name" "status $(code st), want $want: $(head -c 200 st.body)"
	elif [ -n "$pat" ] && ! grep -q -- "$pat" st.body; then
		nok "$name" "body lacks '$pat': $(head -c 200 st.body)"
	elif [ "$want" != 200 ] && [ "$(wc -l <st.body)" != 1 ]; then
		nok "$name" "error body is not one line: $(head -c 200 st.body)"
	else
		ok "$name"
	fi
}
D() { printf 'sha256:%064x' "$1"; }

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci rev mallory; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null || exit 1
"$M" key enroll rev.pub --holder-key rev.key --role engineer --key admin.key >/dev/null || exit 1
# 300 entries, so that the tree has a full tile
for i in $(seq 1 300); do
	printf '{"kind":"dataset","subject":"imp%d@1","digest":"%s"}\n' "$i" "$(D "$i")"
done >imp.jsonl
"$M" import imp.jsonl --key ci.key >/dev/null || exit 1
sign() { "$M" sign dataset "$1" --digest "$(D "$2")" --key "$3" --out "$4" >/dev/null 2>&1; }
sign d@1 1001 ci.key d1.env || exit 1
sign d@1 1002 ci.key dup.env || exit 1       # the same version, another digest
sign r@1 1003 rev.key rev.env || exit 1
# mallory's envelope: for this ledger (its origin), signed offline by a
# key never enrolled
ORIGIN=$("$M" checkpoint | head -1)
mkdir offline
(cd offline && env -u MLLEDGER_LEDGER "$M" sign dataset m@1 --digest "$(D 1004)" \
	--key ../mallory.key --origin "$ORIGIN" --out ../mal.env >/dev/null 2>&1) || exit 1
"$M" key revoke rev --reason "left" --key admin.key >/dev/null || exit 1
"$M" log-key >log.pub || exit 1

serve_start A "$W/l.db" --batch-wait 200 || { nok "serve starts" "no URL"; finish; exit 1; }
ok "serve starts and writes its URL ($SERVE_URL)"
grep -q '^http://127\.0\.0\.1:[1-9][0-9]*$' A.url && ok "ready file holds the base URL" ||
	nok "ready file holds the base URL" "$(cat A.url)"
grep -qi 'secret\|PRIVATE' A.log && nok "serve prints no key" "$(cat A.log)" ||
	ok "serve prints no key"

# ---- 1. append, proof, retry -----------------------------------------
post d1.env add1
if [ "$(code add1)" = 200 ] && grep -qi '^content-type: text/x.tlog-proof' add1.hdr; then
	ok "POST /add answers 200 with a tlog-proof"
else
	nok "POST /add answers 200 with a tlog-proof" "$(code add1) $(head -c 300 add1.body)"
fi
IDX=$(index_of add1.body)
"$PY" "$CHECK" leaf add1.body d1.env >leaf.rebuilt
"$M" show "$IDX" --format raw >leaf.stored
cmp -s leaf.rebuilt leaf.stored && ok "the leaf rebuilt from extra, index and envelope is the entry's" ||
	nok "the leaf rebuilt from extra, index and envelope is the entry's" "differs (index $IDX)"
expect 0 "verify-proof accepts the answer" "" "$M" verify-proof --log-key log.pub add1.body leaf.rebuilt
# the same proof does not prove another leaf (the check can fail)
"$M" show 5 --format raw >leaf.other
expect 4 "verify-proof refuses the answer for another leaf" "" "$M" verify-proof --log-key log.pub add1.body leaf.other
post d1.env add2
if [ "$(code add2)" = 200 ] && [ "$(index_of add2.body)" = "$IDX" ] &&
	grep -qi '^mlledger-existing: 1' add2.hdr; then
	ok "a retry answers 200, the same index, Mlledger-Existing: 1"
else
	nok "a retry answers 200, the same index, Mlledger-Existing: 1" "$(code add2) $(cat add2.hdr)"
fi
grep -qi '^mlledger-existing' add1.hdr && nok "a new entry is not marked existing" "" ||
	ok "a new entry is not marked existing"
printf '\r\n' >>d1.env
post d1.env add3
[ "$(index_of add3.body)" = "$IDX" ] && ok "trailing CR LF are dropped (a retry still)" ||
	nok "trailing CR LF are dropped (a retry still)" "$(code add3) $(head -c 200 add3.body)"

# ---- 2. refusals --------------------------------------------------------
printf 'not json' >bad1
status 400 "not JSON: 400" bad1
printf '{"payloadType":"x","payload":"","signatures":[]}' >bad2
status 400 "not a DSSE envelope mlledger reads: 400" bad2
"$PY" -c 'import json,sys,base64
e=json.load(open("d1.env")); e["payload"]=base64.b64encode(b"{\"_type\":1}").decode()
print(json.dumps(e))' >bad3
status 400 "payload not an in-toto Statement: 400" bad3
status 403 "an unenrolled key: 403" mal.env
status 403 "a revoked key: 403, saying so" rev.env "revoked"
"$PY" -c 'import json,base64
e=json.load(open("d1.env")); s=bytearray(base64.b64decode(e["signatures"][0]["sig"])); s[0]^=1
e["signatures"][0]["sig"]=base64.b64encode(bytes(s)).decode(); print(json.dumps(e))' >badsig.env
status 403 "a signature that does not verify: 403" badsig.env "does not verify"
status 409 "a rule refusal (a version recorded again): 409" dup.env "d@1"
head -c 70000 /dev/zero | tr '\0' ' ' >big
status 413 "a body over 65,536 bytes: 413" big
head -c 65500 /dev/zero | tr '\0' ' ' >big2
status 413 "an envelope over 65,482 bytes: 413" big2
c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/add")
[ "$c" = 405 ] && ok "GET /add: 405" || nok "GET /add: 405" "$c"
c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/nothing")
[ "$c" = 404 ] && ok "an unknown path: 404" || nok "an unknown path: 404" "$c"
c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/checkpoint?$(head -c 1100 /dev/zero | tr '\0' a)")
[ "$c" = 414 ] && ok "a URL over 1,024 bytes: 414" || nok "a URL over 1,024 bytes: 414" "$c"

# ---- 3. a batch with refused envelopes in it ---------------------------
for i in 1 2 3 4 5 6; do sign b$i@1 $((2000 + i)) ci.key b$i.env || exit 1; done
cp dup.env dup2.env
pids=
for f in b1 b2 b3 mal b4 dup2 b5 rev b6; do post $f.env p_$f & pids="$pids $!"; done
wait $pids
good=1
for f in b1 b2 b3 b4 b5 b6; do [ "$(code p_$f)" = 200 ] || good=0; done
[ "$(code p_mal)" = 403 ] && [ "$(code p_rev)" = 403 ] && [ "$(code p_dup2)" = 409 ] || good=0
[ $good = 1 ] && ok "parallel appends: the good answered 200, the refused 403/409" ||
	nok "parallel appends: the good answered 200, the refused 403/409" \
	"$(for f in b1 b2 b3 mal b4 dup2 b5 rev b6; do printf '%s=%s ' $f "$(code p_$f)"; done)"
sizes=$(for f in b1 b2 b3 b4 b5 b6; do sed -n 5p p_$f.body 2>/dev/null; done | sort -u | wc -l)
[ "$sizes" -lt 6 ] && ok "they were grouped ($sizes checkpoint(s) for 6 appends)" ||
	nok "they were grouped" "$sizes checkpoints for 6 appends"
all=1
for f in b1 b2 b3 b4 b5 b6; do
	i=$(index_of p_$f.body)
	"$PY" "$CHECK" leaf p_$f.body $f.env >l_$f
	"$M" show "$i" --format raw | cmp -s - l_$f || all=0
	"$M" verify-proof --log-key log.pub p_$f.body l_$f >/dev/null 2>&1 || all=0
done
[ $all = 1 ] && ok "each good one is in the ledger at its answered index, proof verified" ||
	nok "each good one is in the ledger at its answered index" ""
expect 0 "the ledger verifies" "" "$M" verify

# ---- 3b. the rules in force move with each batch ------------------------
# The committer keeps the governance in force between batches: a change
# appended through the server binds its next batch, and one appended by
# another writer (the head moved) is read again.
sign x1@1 4001 ci.key x1.env || exit 1
sign x2@1 4002 ci.key x2.env || exit 1
"$M" governance show --default --format json >gov.json
"$PY" -c 'import json,sys
d=json.load(open("gov.json"))["document"]
json.dump(d, open("gov0.json","w"))
d["roles"]["engineer"].remove("dataset"); json.dump(d, open("gov1.json","w"))'
"$M" governance set gov1.json --key admin.key --out g1.env >/dev/null 2>&1 || exit 1
status 200 "a governance change through the server: 200" g1.env
post x1.env px1
case $(code px1) in
403 | 409) ok "the next batch applies it: a dataset by an engineer is refused ($(code px1))" ;;
*) nok "the next batch applies the new governance" "$(code px1) $(head -c 200 px1.body)" ;;
esac
if serve_store; then
	# the working copy is the store's: a local append would be a fork
	"$M" governance set gov0.json --key admin.key --out g0.env >/dev/null 2>&1 || exit 1
	status 200 "the governance restored through the server: 200" g0.env
	store_skip "a change by another writer is seen" "a CLI append to the working copy is \
a fork the store lacks, refused with 500 (another front-end's appends: tests/ha/serve_tamper.sh)"
	status 200 "the next batch applies it: the dataset is accepted again" x2.env
else
"$M" governance set gov0.json --key admin.key >/dev/null 2>&1 || exit 1
status 200 "a change by another writer is seen: the dataset is accepted again" x2.env
fi

# ---- 4. reads -------------------------------------------------------------
$CURL "$SERVE_URL/checkpoint" >cp.served
"$M" checkpoint >cp.cli
cmp -s cp.served cp.cli && ok "/checkpoint is 'mlledger checkpoint'" ||
	nok "/checkpoint is 'mlledger checkpoint'" "$(diff cp.served cp.cli | head -5)"
"$M" log --format json >log.json
expect 0 "every tile and bundle matches the ledger; outside the tree 404" "^ok" \
	"$PY" "$CHECK" tiles "$SERVE_URL" log.json
bad=
for p in tile/0/0 tile/00/000 tile/0/000.p/0 tile/0/000.p/256 tile/0/000.p/01 \
	tile/entries/x000/000 tile/0/x001 tile/64/000 tile/0/000/ tile/ tile/entries/000.p/ \
	tile/1/000.p/1x tile/0/%30%30%30 tile%2F0%2F000; do
	c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/$p")
	[ "$c" = 404 ] || bad="$bad $p=$c"
done
[ -z "$bad" ] && ok "malformed tile paths: 404" || nok "malformed tile paths: 404" "$bad"
SIZE=$(sed -n 2p cp.cli)
$CURL "$SERVE_URL/consistency?old=3&new=$SIZE" >cons.served
"$M" prove --consistency 3 --size "$SIZE" >cons.cli
[ -s cons.cli ] && cmp -s cons.served cons.cli && ok "/consistency is 'prove --consistency'" ||
	nok "/consistency is 'prove --consistency'" "$(head -c 200 cons.served)"
bad=
for q in "old=0&new=$SIZE" "old=5&new=4" "old=1&new=$((SIZE + 1))" "old=1" "old=01&new=$SIZE" \
	"old=-1&new=$SIZE"; do
	c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/consistency?$q")
	[ "$c" = 400 ] || bad="$bad $q=$c"
done
[ -z "$bad" ] && ok "bad consistency sizes: 400" || nok "bad consistency sizes: 400" "$bad"
# /checkpoint/N: the note stored at size N, immutable; 404 for a size never
# signed (the grouped batches above left some), 0, beyond, or misspelt
"$PY" - "$MLLEDGER_LEDGER" "$SIZE" >ck.sizes <<'EOF2'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
have = {r[0] for r in c.execute("SELECT size FROM checkpoints")}
print(" ".join(str(n) for n in sorted(have) if n <= int(sys.argv[2])))
print(next(n for n in range(1, int(sys.argv[2])) if n not in have))
EOF2
good=1 nck=0
for n in $(sed -n 1p ck.sizes); do
	nck=$((nck + 1))
	$CURL -D ck.hdr "$SERVE_URL/checkpoint/$n" >ck.served
	"$M" checkpoint --size "$n" >ck.cli
	[ -s ck.cli ] && cmp -s ck.served ck.cli &&
		grep -qi '^cache-control: public, max-age=31536000, immutable' ck.hdr &&
		grep -qi '^content-type: text/plain; charset=utf-8' ck.hdr || { good=0; break; }
done
[ $good = 1 ] && [ $nck -gt 2 ] && ok "/checkpoint/N is 'checkpoint --size N', immutable ($nck sizes)" ||
	nok "/checkpoint/N is 'checkpoint --size N'" "size $n: $(head -c 200 ck.served)"
unsigned=$(sed -n 2p ck.sizes)
bad=
for p in 0 $((SIZE + 1)) "$unsigned" 0$SIZE +$SIZE -1 "%20$SIZE" x 1x 99999999999999999999 \
	"" "$SIZE/" "%3$((SIZE % 10))" 18446744073709551617; do
	c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/checkpoint/$p")
	[ "$c" = 404 ] || bad="$bad '$p'=$c"
done
[ -z "$bad" ] && ok "/checkpoint/N: 404 for 0, beyond, never signed ($unsigned), misspelt" ||
	nok "/checkpoint/N 404s" "$bad"
c=$($CURL -I -o /dev/null -w '%{http_code}' "$SERVE_URL/checkpoint/$SIZE")
[ "$c" = 200 ] && ok "HEAD /checkpoint/N: 200" || nok "HEAD /checkpoint/N: 200" "$c"
[ "$($CURL "$SERVE_URL/healthz")" = ok ] && ok "/healthz: ok" || nok "/healthz: ok" ""
c=$($CURL -I -o /dev/null -w '%{http_code}' "$SERVE_URL/checkpoint")
[ "$c" = 200 ] && ok "HEAD /checkpoint: 200" || nok "HEAD /checkpoint: 200" "$c"
c=$($CURL -o /dev/null -w '%{http_code}' -X DELETE "$SERVE_URL/checkpoint")
[ "$c" = 405 ] && ok "DELETE /checkpoint: 405" || nok "DELETE /checkpoint: 405" "$c"
$CURL "$SERVE_URL/metrics" >metrics
if grep -q '^mlledger_appends_total [1-9]' metrics &&
	grep -q '^mlledger_refusals_total{reason="key",status="403"} [1-9]' metrics &&
	grep -q '^mlledger_batch_size_count [1-9]' metrics &&
	grep -q '^mlledger_ack_seconds_bucket{le="+Inf"} [1-9]' metrics &&
	grep -q '^mlledger_pending 0' metrics; then
	ok "/metrics counts appends, refusals, batches, latency, pending"
else
	nok "/metrics counts appends, refusals, batches, latency, pending" "$(head -c 400 metrics)"
fi

# ---- 4b. a client that gives up while its batch waits -----------------
sign gone@1 5001 ci.key gone.env || exit 1
$CURL --max-time 0.05 -o /dev/null --data-binary @gone.env "$SERVE_URL/add" 2>/dev/null
sleep 0.5
post gone.env gone
[ "$(code gone)" = 200 ] && grep -qi '^mlledger-existing: 1' gone.hdr &&
	ok "a client gone before its answer: the entry was committed, its retry finds it" ||
	nok "a client gone before its answer: its retry finds the entry" "$(code gone) $(cat gone.hdr)"

# ---- 5. a slow body is cut while others are served ----------------------
"$PY" "$CHECK" slow "$SERVE_URL" 20 >slow.out &
SLOW=$!
sleep 2
c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/checkpoint")
[ "$c" = 200 ] && ok "served while a slow body trickles" || nok "served while a slow body trickles" "$c"
wait $SLOW
t=$(sed -n 's/^cut after \([0-9]*\).*/\1/p' slow.out)
[ -n "$t" ] && [ "$t" -le 13 ] && ok "a slow body is cut ($(cat slow.out))" ||
	nok "a slow body is cut within the 10 s request limit" "$(cat slow.out)"

# ---- 6. SIGTERM with appends in flight ----------------------------------
serve_stop A
[ "$SERVE_RC" = 0 ] && ! grep -q 'Sanitizer\|runtime error' A.log &&
	ok "SIGTERM after all that: exit 0, nothing on stderr from sanitizers" ||
	nok "SIGTERM after all that: exit 0" "exit $SERVE_RC: $(tail -5 A.log)"
serve_start B "$W/l.db" --batch-wait 20 || { nok "serve restarts" ""; finish; exit 1; }
for i in $(seq 1 40); do sign t$i@1 $((3000 + i)) ci.key t$i.env || exit 1; done
pids=
for i in $(seq 1 40); do post t$i.env q_$i & pids="$pids $!"; done
sleep 0.15
serve_stop B TERM
wait $pids
[ "$SERVE_RC" = 0 ] && ok "SIGTERM: exit 0" || nok "SIGTERM: exit 0" "exit $SERVE_RC"
n200=0 lost=0 other=
for i in $(seq 1 40); do
	case $(code q_$i) in
	200)
		n200=$((n200 + 1))
		"$PY" "$CHECK" leaf q_$i.body t$i.env >lq
		"$M" show "$(index_of q_$i.body)" --format raw 2>/dev/null | cmp -s - lq || lost=$((lost + 1))
		;;
	503 | 000) ;;
	*) other="$other $i=$(code q_$i)" ;;
	esac
done
[ $lost = 0 ] && [ -z "$other" ] && ok "SIGTERM: all $n200 answered appends are in the ledger at their index" ||
	nok "SIGTERM: every answered append is in the ledger" "lost $lost, other statuses:$other"
expect 0 "after SIGTERM the ledger verifies" "" "$M" verify
grep -q 'stopped' B.log && ok "serve says it stopped" || nok "serve says it stopped" "$(tail -2 B.log)"

# ---- 7. TLS ------------------------------------------------------------------
if command -v openssl >/dev/null 2>&1 &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout tls.key -out tls.crt >/dev/null 2>&1; then
	if serve_start C "$W/l.db" --tls-cert tls.crt --tls-key tls.key; then
		case $SERVE_URL in https://*) ok "TLS: the URL is https" ;; *) nok "TLS: the URL is https" "$SERVE_URL" ;; esac
		$CURL --cacert tls.crt "$SERVE_URL/checkpoint" >cp.tls
		"$M" checkpoint >cp.cli
		cmp -s cp.tls cp.cli && ok "TLS: /checkpoint over https" || nok "TLS: /checkpoint over https" "$(head -c 200 cp.tls)"
		c=$($CURL -o /dev/null -w '%{http_code}' "http://${SERVE_URL#https://}/checkpoint")
		[ "$c" != 200 ] && ok "TLS: plain HTTP is not served" || nok "TLS: plain HTTP is not served" "$c"
		serve_stop C
	elif grep -q 'without TLS' C.log; then
		skip "TLS" "this libmicrohttpd has no TLS"
	else
		nok "TLS: serve starts" "$(tail -3 C.log)"
	fi
else
	skip "TLS" "no openssl CLI to make a certificate"
fi
# ---- 8. --max-connections --------------------------------------------------
if serve_start D "$W/l.db" --threads 1 --max-connections 2; then
	"$PY" "$CHECK" hold "$SERVE_URL" 2 3 >hold.out &
	HOLD=$!
	sleep 1
	c=$($CURL --max-time 2 -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz")
	[ "$c" != 200 ] && ok "--max-connections 2: a third connection is not served" ||
		nok "--max-connections 2: a third connection is not served" "$c"
	wait $HOLD
	c=$($CURL -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz")
	[ "$c" = 200 ] && ok "--max-connections: served again once they close" ||
		nok "--max-connections: served again once they close" "$c"
	serve_stop D
else
	nok "serve --max-connections 2 starts" "$(tail -2 D.log)"
fi
mv l.db.log.key lk.saved
expect 6 "without the log key serve does not start: exit 6" "log key" "$M" serve --listen 127.0.0.1:0
mv lk.saved l.db.log.key
expect 2 "--tls-cert without --tls-key: exit 2" "go together" "$M" serve --listen 127.0.0.1:0 --tls-cert tls.crt
expect 2 "--listen without a port: exit 2" "listen" "$M" serve --listen 127.0.0.1
expect 2 "--listen with a host name: exit 2" "not an IPv4" "$M" serve --listen localhost:0
finish
