#!/bin/sh
# tests/cli/witness_http.sh — one mlledger server witnessing another's log
# over HTTP (C2SP tlog-witness, docs/SERVER.md "Witnessing").
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/witness_http.sh
#
# Two ledgers, each served on loopback: A (serve --witness-key wa.key
# --witness-log b.pub) witnesses B.  A feeder fetches B's checkpoint and
# consistency proof from B's server, posts them to A's /add-checkpoint and
# checks the cosignature with a trust policy; then every refusal over HTTP
# (409 with text/x.tlog.size, 422 fork and bad proof, 403 another key, 404
# another origin, 400, 413), the state surviving a restart and shared with
# `cosign --state`, two concurrent posts with one winner, and serve's
# witness options refused.  Needs curl.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/witness_http.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" wihttp
. "$here/serverlib.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
if ! command -v curl >/dev/null 2>&1; then
	nok "environment" "curl is missing (apt-get install curl)"
	finish
	exit 1
fi
CURL="curl -sS --max-time 20"

# post URL BODYFILE: POSTs to URL/add-checkpoint; the status into $code, the
# body into resp, the content type into $ctype.
post() {
	local out
	out=$($CURL -o resp -w '%{http_code} %{content_type}' --data-binary @"$2" "$1/add-checkpoint")
	code=${out%% *}
	ctype=${out#* }
}
# body OLD CHECKPOINT [PROOF]: a request body into req
body() {
	{ echo "old $1"; [ -z "${3:-}" ] || cat "$3"; echo; cat "$2"; } >req
}
# grow NAME: B appends dataset NAME@1 through its server
grow() {
	"$M" --ledger "$W/b.db" sign dataset "$1@1" --digest \
		"sha256:$(printf '%s' "$1" | sha256sum | cut -c1-64)" --key eng.key --out "$1.dsse" \
		>/dev/null || echo "setup: sign $1 failed" >&2
	$CURL -o /dev/null --data-binary @"$1.dsse" "$B/add" || echo "setup: POST /add $1 failed" >&2
}
# expect_status NAME WANT [CTYPE-PATTERN [BODY-PATTERN]]
expect_status() {
	if [ "$code" != "$2" ]; then
		nok "$1" "status $code, want $2: $(head -c 200 resp)"
	elif [ -n "${3:-}" ] && ! printf '%s' "$ctype" | grep -q -- "$3"; then
		nok "$1" "content type '$ctype' lacks '$3'"
	elif [ -n "${4:-}" ] && ! grep -q -- "$4" resp; then
		nok "$1" "body lacks '$4': $(head -c 200 resp)"
	else
		ok "$1"
	fi
}

for k in admin eng wa w2; do "$M" key new $k >/dev/null || exit 1; done
# B: the witnessed log, with an engineer who appends through B's server
"$M" --ledger "$W/b.db" init --key admin.key >/dev/null || exit 1
"$M" --ledger "$W/b.db" key enroll eng.pub --holder-key eng.key --role engineer \
	--key admin.key >/dev/null || exit 1
"$M" --ledger "$W/b.db" log-key >b.pub
ORIGIN=$(head -c 200 b.pub | cut -d+ -f1)
# A: the witness (a ledger of its own); C: another log; D: B's origin, another key
"$M" --ledger "$W/a.db" init --key admin.key >/dev/null || exit 1
"$M" --ledger "$W/a.db" log-key >a.pub
"$M" --ledger "$W/c.db" init --key admin.key --origin other.example/c >/dev/null || exit 1
"$M" --ledger "$W/c.db" checkpoint >c.ckpt
"$M" --ledger "$W/d.db" init --key admin.key --origin "$ORIGIN" >/dev/null || exit 1
"$M" --ledger "$W/d.db" checkpoint >d.ckpt
"$M" witness-key --key wa.key >wa.vkey
"$M" witness-key --key w2.key >w2.vkey
printf 'log %s\nwitness wa %s\nquorum wa\n' "$(cat b.pub)" "$(cat wa.vkey)" >trust.policy
printf 'log %s\nwitness w2 %s\nquorum w2\n' "$(cat b.pub)" "$(cat w2.vkey)" >trust-w2.policy

serve_start b "$W/b.db" || { nok "B serves" "did not start"; finish; exit 1; }
B=$SERVE_URL
serve_start a "$W/a.db" --witness-key wa.key --witness-log b.pub \
	--witness-state "$W/a-wit.state" || { nok "A serves as a witness" "did not start"; finish; exit 1; }
A=$SERVE_URL
grep -q "witnessing $ORIGIN" "$W/a.log" && ok "A says which log it witnesses" ||
	nok "A says which log it witnesses" "$(head -c 300 "$W/a.log")"

# ---- first use and onward --------------------------------------------------
grow d1
grow d2
$CURL -o cp1 "$B/checkpoint" || nok "GET B /checkpoint" "curl failed"
N1=$(sed -n 2p cp1)
body 0 cp1
post "$A" req
expect_status "first use: old 0 and B's checkpoint are cosigned (200)" 200 "text/plain"
[ "$(wc -l <resp)" = 1 ] && grep -q "^— wa " resp && ok "the answer is one cosignature line by wa" ||
	nok "the answer is one cosignature line by wa" "$(head -c 200 resp)"
cat cp1 resp >cp1.cosigned
expect 0 "the cosigned checkpoint meets a policy requiring witness wa" "" \
	"$M" --ledger "$W/b.db" verify --checkpoint cp1.cosigned --trust trust.policy
expect 4 "... and not one requiring another witness (w2)" "" \
	"$M" --ledger "$W/b.db" verify --checkpoint cp1.cosigned --trust trust-w2.policy
[ "$(sed -n 2p a-wit.state 2>/dev/null)" = "$N1" ] && ok "A's state holds size $N1" ||
	nok "A's state holds size $N1" "$(sed -n 2p a-wit.state 2>/dev/null)"

grow d3
grow d4
$CURL -o cp2 "$B/checkpoint"
N2=$(sed -n 2p cp2)
$CURL -o p12 "$B/consistency?old=$N1&new=$N2" || nok "GET B /consistency" "curl failed"
body "$N1" cp2 p12
post "$A" req
expect_status "onward: old $N1, B's proof and checkpoint $N2 are cosigned" 200
cat cp2 resp >cp2.cosigned
expect 0 "the new cosignature verifies too" "" \
	"$M" --ledger "$W/b.db" verify --checkpoint cp2.cosigned --trust trust.policy
body "$N2" cp2
post "$A" req
expect_status "the same checkpoint again is cosigned again" 200

# ---- refusals ----------------------------------------------------------------
sum=$(cksum <a-wit.state)
body 0 cp2
post "$A" req
expect_status "old 0 after first use: 409 with the stored size" 409 "^text/x.tlog.size" "^$N2\$"
body "$N1" cp2 p12
post "$A" req
expect_status "a stale old size: 409 with the stored size" 409 "^text/x.tlog.size" "^$N2\$"
body $((N2 + 5)) cp2
post "$A" req
expect_status "old larger than the checkpoint: 400" 400

# A fork of B (its log key stolen): a copy of B at size N2, taken with B's
# server stopped, grows otherwise than B from there on.
serve_stop b
rm -f fork.db fork.db-wal fork.db-shm fork.db.log.key
cp "$W/b.db" fork.db && { [ ! -f "$W/b.db-wal" ] || cp "$W/b.db-wal" fork.db-wal; } &&
	cp -p "$W/b.db.log.key" fork.db.log.key || echo "setup: copying B failed" >&2
serve_start b "$W/b.db" || { nok "B serves again" "did not start"; finish; exit 1; }
B=$SERVE_URL
grow real-e
for n in fork-e fork-f; do
	"$M" --ledger fork.db record dataset "$n@1" --digest \
		"sha256:$(printf '%s' "$n" | sha256sum | cut -c1-64)" --key eng.key >/dev/null ||
		echo "setup: fork $n failed" >&2
done
$CURL -o cp3 "$B/checkpoint"
N3=$(sed -n 2p cp3)
$CURL -o p23 "$B/consistency?old=$N2&new=$N3"
"$M" --ledger fork.db checkpoint --size "$N3" >fork3
"$M" --ledger fork.db checkpoint >fork4
"$M" --ledger fork.db prove --consistency "$N2" --size "$N3" >pf23
"$M" --ledger fork.db prove --consistency "$N2" >pf24
[ "$N3" = $((N2 + 1)) ] && [ "$(sed -n 2p fork3)" = "$N3" ] && ! cmp -s cp3 fork3 &&
	ok "setup: the fork has another root at size $N3" ||
	nok "setup: the fork has another root at size $N3" "$(sed -n 2,3p fork3 cp3 | tr '\n' ' ')"
# A cosigns the fork at N3 first (the thief reached it first): it extends
# what A saw, so A cannot tell ...
body "$N2" fork3 pf23
post "$A" req
expect_status "the fork's checkpoint $N3 with its own proof is cosigned (it extends $N2)" 200
sum=$(cksum <a-wit.state)
# ... and then refuses the real log at the same size
body "$N3" cp3
post "$A" req
expect_status "another root at the stored size (the real log after the fork): 422" 422 "" "two roots"
: >empty.proof
expect 4 "A kept both of the log's notes at size $N3: verify-consistency shows the fork" "two roots" \
	"$M" verify-consistency --log-key b.pub "a-wit.state.fork-$N3.cosigned" \
	"a-wit.state.fork-$N3.refused" empty.proof
grep -q "witness: the log signed two roots at size $N3: kept as" "$W/a.log" &&
	ok "A's log says where the evidence is" || nok "A's log says where the evidence is" "$(tail -2 "$W/a.log")"
# and a real proof offered for the fork's next size
body "$N3" fork4 p23
post "$A" req
expect_status "a proof that does not verify: 422" 422 "" "proof does not show"
body "$N3" fork4 pf24
post "$A" req
expect_status "a proof for other sizes: 422" 422
body "$N3" d.ckpt
post "$A" req
expect_status "B's origin signed by another key: 403" 403 "" "not signed by the log key"
body "$N3" c.ckpt
post "$A" req
expect_status "another origin: 404" 404 "" "unknown origin other.example/c"
printf 'old 1\nnot base64\n\n' >req
cat cp3 >>req
post "$A" req
expect_status "a malformed proof line: 400" 400
{ echo "old $N3"; head -c 9000 /dev/zero | tr '\0' '\n'; cat cp3; } >req
post "$A" req
expect_status "a body above 8 KiB: 413" 413
[ "$(cksum <a-wit.state)" = "$sum" ] && ok "no refusal moved A's state" || nok "no refusal moved A's state" "changed"
$CURL -o metrics "$A/metrics"
grep -q '^mlledger_witness_forks_total 1$' metrics &&
	grep -q '^mlledger_witness_answers_total{status="422"} 3$' metrics &&
	grep -q '^mlledger_witness_answers_total{status="409"} 2$' metrics &&
	ok "A's /metrics counts its answers by status, and the one fork" ||
	nok "A's /metrics counts its answers by status, and the one fork" "$(grep witness metrics | tr '\n' ' ')"
$CURL "$B/metrics" | grep -q mlledger_witness && nok "B (no witness) has no witness metrics" "it has" ||
	ok "B (no witness) has no witness metrics"
body "$N3" cp3
post "$B" req
expect_status "B (no --witness-key) has no /add-checkpoint: 404" 404
code=$($CURL -o resp -w '%{http_code}' "$A/add-checkpoint")
[ "$code" = 405 ] && ok "GET /add-checkpoint: 405" || nok "GET /add-checkpoint: 405" "status $code"

# ---- the state: across restarts, shared with cosign --state --------------------
serve_stop a
[ "${SERVE_RC:-1}" = 0 ] && ok "A stops cleanly on SIGTERM" || nok "A stops cleanly on SIGTERM" "exit ${SERVE_RC:-?}"
expect 0 "cosign --state reads the state the endpoint wrote (the same checkpoint again)" "" \
	"$M" cosign --key wa.key --log-key b.pub --state a-wit.state fork3
expect 4 "... and refuses the real log at that size, as the endpoint did" "two roots" \
	"$M" cosign --key wa.key --log-key b.pub --state a-wit.state cp3
serve_start a "$W/a.db" --witness-key wa.key --witness-log b.pub --witness-state "$W/a-wit.state" ||
	nok "A serves again" "did not start"
A=$SERVE_URL
body "$N2" cp2
post "$A" req
expect_status "after a restart the stored size is still $N3 (409)" 409 "^text/x.tlog.size" "^$N3\$"

# ---- two posts at once with the same old size: one wins ------------------------
# A second witness on a fresh state, at B's size N3 (the real log).
serve_start a2 "$W/a.db" --witness-key w2.key --witness-log b.pub --witness-state "$W/a2.state" ||
	nok "A2 serves" "did not start"
A2=$SERVE_URL
body 0 cp3
post "$A2" req
expect_status "A2: first use at $N3" 200
wins=0 conflicts=0
for round in 1 2 3 4 5; do
	grow "race-$round"
	$CURL -o cpr "$B/checkpoint"
	NR=$(sed -n 2p cpr)
	OLD=$(sed -n 2p a2.state)
	$CURL -o pr "$B/consistency?old=$OLD&new=$NR"
	body "$OLD" cpr pr
	$CURL -o r1 -w "%{http_code}\n" --data-binary @req "$A2/add-checkpoint" >c1 &
	p1=$!
	$CURL -o r2 -w "%{http_code}\n" --data-binary @req "$A2/add-checkpoint" >c2 &
	p2=$!
	wait $p1 $p2
	s=$(cat c1 c2 | sort | tr '\n' ' ')
	if [ "$s" = "200 409 " ]; then
		wins=$((wins + 1))
	else
		conflicts=$((conflicts + 1))
		echo "# round $round: statuses $s" >&2
	fi
done
[ "$wins" = 5 ] && ok "5 rounds of two concurrent posts: each exactly one 200 and one 409" ||
	nok "5 rounds of two concurrent posts: each exactly one 200 and one 409" "$conflicts rounds otherwise"
serve_stop a2

# ---- serve's witness options ------------------------------------------------
expect 2 "--witness-key without --witness-log is refused" "go together" \
	timeout 20 "$M" serve --listen 127.0.0.1:0 --ledger "$W/a.db" --witness-key wa.key
expect 2 "--witness-state alone is refused" "needs --witness-key" \
	timeout 20 "$M" serve --listen 127.0.0.1:0 --ledger "$W/a.db" --witness-state x.state
expect 2 "witnessing its own log is refused" "cannot witness itself" \
	timeout 20 "$M" serve --listen 127.0.0.1:0 --ledger "$W/a.db" --witness-key wa.key \
	--witness-log a.pub --witness-state x.state
expect 2 "the ledger's log key as the witness key is refused" "log key" \
	timeout 20 "$M" serve --listen 127.0.0.1:0 --ledger "$W/a.db" \
	--witness-key "$W/a.db.log.key" --witness-log b.pub --witness-state x.state
expect 2 "the ledger as the witness state is refused" "ledger" \
	timeout 20 "$M" serve --listen 127.0.0.1:0 --ledger "$W/a.db" --witness-key wa.key \
	--witness-log b.pub --witness-state "$W/a.db"
# an encrypted witness key: the passphrase as for any key
printf 'correct horse\n' >pass
printf 'wrong horse\n' >badpass
"$M" key new wx --encrypt --passphrase-file pass >/dev/null || echo "setup: key new wx failed" >&2
expect 6 "an encrypted witness key with the wrong passphrase: exit 6" "" \
	timeout 20 "$M" serve --listen 127.0.0.1:0 --ledger "$W/a.db" --witness-key wx.key \
	--witness-log b.pub --witness-state x.state --passphrase-file badpass
serve_start a4 "$W/a.db" --witness-key wx.key --witness-log b.pub --witness-state "$W/a4.state" \
	--passphrase-file pass || nok "A4 serves with an encrypted witness key" "did not start"
body 0 cp3
post "$SERVE_URL" req
expect_status "... and cosigns with it" 200 "" "^— wx "
serve_stop a4
[ "${SERVE_RC:-1}" = 0 ] && ok "A4 stops cleanly" || nok "A4 stops cleanly" "exit ${SERVE_RC:-?}"
ln -s nowhere dangling.state
serve_start a3 "$W/a.db" --witness-key wa.key --witness-log b.pub --witness-state "$W/dangling.state" ||
	nok "A3 serves" "did not start"
body 0 cp3
post "$SERVE_URL" req
expect_status "a dangling symlink as the state: 500, not followed" 500 "" "symbolic link"
[ ! -e nowhere ] && ok "the symlink's target was not created" || nok "the symlink's target was not created" "exists"
serve_stop a3

serve_stop a
a_rc=${SERVE_RC:-1}
serve_stop b
[ "$a_rc" = 0 ] && [ "${SERVE_RC:-1}" = 0 ] && ok "both servers stop cleanly at the end" ||
	nok "both servers stop cleanly at the end" "exit $a_rc and ${SERVE_RC:-?}"
if grep -l "Sanitizer\|runtime error" "$W"/*.log >/dev/null 2>&1; then
	nok "no sanitizer report in the servers' logs" "$(grep -h -m3 "Sanitizer\|runtime error" "$W"/*.log)"
else
	ok "no sanitizer report in the servers' logs"
fi
finish
