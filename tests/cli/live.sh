#!/bin/sh
# tests/cli/live.sh — "what was in production, when?" (mlledger live).
#
#   MLLEDGER=/abs/path/to/mlledger sh tests/cli/live.sh
#
# m@1 deployed to prod and staging, m@2 deployed to prod beside it (a
# canary: both live), m@1 retired from prod, m@2 retired from prod.  live
# is asked between each event (text and JSON), every deciding entry's proof
# is checked with verify-proof and by recomputing the RFC 6962 root in
# Python, and the failures are attacked: unknown environment, bad --at,
# --format xml, a ledger edited in SQLite, and a deployment backdated by
# its author.  The report's production history is checked against live at
# each moment (one definition, rule 11), and a re-deployment's rows.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".

if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 && exec bash "$0" "$@"
	echo "not ok - environment: tests/cli/live.sh needs bash"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$(cd "$(dirname "$0")" && pwd)/harness.sh" live
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null) || PY=
HAVE_FORGE=
[ -n "$PY" ] && "$PY" -c 'import sqlite3, nacl.signing' >/dev/null 2>&1 && HAVE_FORGE=1

export MLLEDGER_LEDGER=$W/l.db
for k in admin ci; do "$M" key new $k >/dev/null || exit 1; done
"$M" init --key admin.key --governance "$UNGATED" >/dev/null || exit 1
"$M" key enroll ci.pub --holder-key ci.key --role engineer --key admin.key >/dev/null || exit 1
echo data >d.bin; echo m1 >m1.bin; echo m2 >m2.bin; echo m3 >m3.bin
"$M" record dataset d@1 --file d.bin --key ci.key >/dev/null
for v in 1 2 3; do
	"$M" record model m@$v --artifact m$v.bin --dataset d@1 --key ci.key >/dev/null || exit 1
done
"$M" log-key >log.pub

# seqof OUTPUT: the seq an append printed.  after SEQ: a --at one second
# past entry SEQ's append time, truncated to the second (the next event is
# appended more than a second later, so it lies before that one).
seqof() { echo "${1%% *}"; }
after() {
	"$M" show "$1" --format json | "$PY" -c 'import json,sys,datetime
t = json.load(sys.stdin)["time"]
d = datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(seconds=1)
print(d.strftime("%Y-%m-%dT%H:%M:%SZ"))'
}
step() { sleep 1.2; }

d1=$(seqof "$("$M" record deployment m@1 --env prod --key ci.key)"); step
s1=$(seqof "$("$M" record deployment m@1 --env staging --key ci.key)"); step
d2=$(seqof "$("$M" record deployment m@2 --env prod --key ci.key)"); step
r1=$(seqof "$("$M" record retirement m@1 --env prod --reason "m@2 took over" --key ci.key)"); step
r2=$(seqof "$("$M" record retirement m@2 --env prod --reason "rollback" --key ci.key)")
[ -n "$d1" ] && [ -n "$r2" ] && ok "setup: deployments and retirements recorded" ||
	nok "setup: deployments and retirements recorded" "d1=$d1 r2=$r2"
A1=$(after "$d1"); AS=$(after "$s1"); A2=$(after "$d2"); A3=$(after "$r1"); A4=$(after "$r2")

# livejson AT ENV CHECK: CHECK is Python over d (the JSON answer) and the
# seqs; ok when it holds.
livejson() {
	local at=$1 env=$2 check=$3 name=$4
	if [ -n "$at" ]; then
		"$M" live --env "$env" --at "$at" --format json >lj.json 2>err
	else
		"$M" live --env "$env" --format json >lj.json 2>err
	fi
	local rc=$?
	if [ $rc != 0 ]; then
		nok "$name" "exit $rc: $(head -c 300 err)"
		return
	fi
	if D1=$d1 S1=$s1 D2=$d2 R1=$r1 R2=$r2 "$PY" -c '
import json, os, sys
d = json.load(open("lj.json"))
D1, S1, D2, R1, R2 = (int(os.environ[k]) for k in ("D1", "S1", "D2", "R1", "R2"))
live = [(v["ref"], v["deployment"]["seq"]) for v in d["live"]]
ended = [(v["ref"], v["deployment"]["seq"], v["retirement"]["seq"]) for v in d["ended"]]
ok = '"$check"'
sys.exit(0 if ok else 1)' 2>pyerr; then
		ok "$name"
	else
		nok "$name" "$(head -c 400 lj.json | tr '\n' ' ') $(head -c 200 pyerr)"
	fi
}

if [ -n "$PY" ]; then
	livejson 2000-01-01 prod 'live == [] and ended == [] and d["at"] == "2000-01-01T00:00:00Z"' \
		"before any deployment nothing is live (JSON)"
	livejson "$A1" prod 'live == [("m@1", D1)] and ended == [] and d["live"][0]["deployment"]["replaces"] is None' \
		"after deploying m@1: m@1 live in prod, replacing nothing"
	livejson "$A1" staging 'live == []' "... and nothing yet in staging"
	livejson "$AS" staging 'live == [("m@1", S1)]' "after deploying m@1 to staging: live there"
	livejson "$A2" prod 'live == [("m@1", D1), ("m@2", D2)] and d["live"][1]["deployment"]["replaces"] == "m@1" and d["live"][1]["deployment"]["replacesSeq"] == D1' \
		"after deploying m@2 beside m@1 (a canary): both live, m@2 replacing m@1"
	livejson "$A3" prod 'live == [("m@2", D2)] and ended == [("m@1", D1, R1)]' \
		"after retiring m@1: only m@2, m@1 ended by its retirement"
	livejson "$A4" prod 'live == [] and ended == [("m@2", D2, R2), ("m@1", D1, R1)] and d["endedTotal"] == 2' \
		"after retiring m@2: nothing live, both ended (latest retirement first)"
	livejson "" prod 'live == [] and d["at"] is None and d["checkpoint"]["size"] == R2 + 1' \
		"without --at: the head"
	livejson "" staging 'live == [("m@1", S1)] and d["live"][0]["deployment"]["environment"] == "staging"' \
		"staging at the head: m@1 still live (prod's retirement does not touch it)"
	livejson "" dev 'live == [] and ended == []' "a declared environment never deployed to: nothing live"
	livejson "$A2" prod 'all(v["deployment"]["signer"]["person"] == "ci" and v["deployment"]["signer"]["keyid"].startswith("ci+") and not v["deployment"]["backdated"] and v["deployment"]["time"] and v["deployment"]["appended"] for v in d["live"])' \
		"each deciding entry names its signer, author and append times"
else
	skip "JSON answers" "no python3"
fi

# One definition (FORMAT.md §5 rule 11): the report's production history
# and live agree.  At each moment (--as-of for the report, --at for live)
# the report's deployments still in service at the period's end are exactly
# what live lists, per environment: both m@1 and m@2 in prod after the
# canary deployment (no retirement yet), then m@2 alone once m@1 is retired.
# The old report ended m@1 at m@2's deployment ("superseded"); this fails.
reportlive() {
	local at=$1 env=$2 want=$3 name=$4 rc
	"$M" report --from 2000-01-01 --to 2100-12-31 --as-of "$at" --generated-at 2000-01-01T00:00:00Z \
		--format json --force --out rl.json >/dev/null 2>err
	rc=$?
	[ $rc = 0 ] || { nok "$name" "report exit $rc: $(head -c 300 err)"; return; }
	"$M" live --env "$env" --at "$at" --format json >rl-live.json 2>err ||
		{ nok "$name" "live: $(head -c 300 err)"; return; }
	if D1=$d1 S1=$s1 D2=$d2 ENV=$env "$PY" -c '
import json, os, sys
D1, S1, D2 = (int(os.environ[k]) for k in ("D1", "S1", "D2"))
r = json.load(open("rl.json"))
lv = json.load(open("rl-live.json"))
env = os.environ["ENV"]
deps = [d for d in r["inventory"]["deployments"] if d["environment"] == env]
rep = sorted((d["ref"], d["seq"]) for d in deps if d["end"] is None)
assert all(d["endReason"] == "in service" for d in deps if d["end"] is None), deps
live = sorted((v["ref"], v["deployment"]["seq"]) for v in lv["live"])
assert rep == live, ("report", rep, "live", live)
assert rep == sorted('"$want"'), ("want", '"$want"', "got", rep)
for d in deps:
    assert "superseded" not in (d["endReason"] or ""), d
sys.exit(0)' 2>pyerr; then
		ok "$name"
	else
		nok "$name" "$(tail -c 400 pyerr)"
	fi
}

if [ -n "$PY" ]; then
	reportlive "$A1" prod '[("m@1", D1)]' "report and live agree after deploying m@1"
	reportlive "$A2" prod '[("m@1", D1), ("m@2", D2)]' \
		"report and live agree after deploying m@2 beside m@1: both in service at the period end"
	reportlive "$A2" staging '[("m@1", S1)]' "... and in staging, untouched by prod's deployments"
	reportlive "$A3" prod '[("m@2", D2)]' "report and live agree after retiring m@1: only m@2 in service"
	reportlive "$A4" prod '[]' "report and live agree after retiring m@2: nothing in service"
	reportlive "$A4" staging '[("m@1", S1)]' "... and m@1 still in service in staging"
	"$M" report --from 2000-01-01 --to 2100-12-31 --as-of "$A2" --generated-at 2000-01-01T00:00:00Z \
		--format json --force --out rl.json >/dev/null 2>&1
	"$PY" -c '
import json, sys
r = json.load(open("rl.json"))
m2 = [d for d in r["inventory"]["deployments"] if d["ref"] == "m@2"]
sys.exit(0 if len(m2) == 1 and m2[0]["replaces"] == "m@1" and m2[0]["end"] is None else 1)' &&
		ok "report: m@2 replaces m@1 (informational) without ending it" ||
		nok "report: m@2 replaces m@1 (informational) without ending it" "$(head -c 300 rl.json)"
	# The timelines draw the same history: at the canary moment three bars in
	# service (m@1 and m@2 in prod, m@1 in staging), none ended.
	"$M" report --from 2000-01-01 --to 2100-12-31 --as-of "$A2" --generated-at 2000-01-01T00:00:00Z \
		--format html --force --out rl.html >/dev/null 2>&1
	nl=$(grep -o 'class="bar live"' rl.html | wc -l); ne=$(grep -o 'class="bar"' rl.html | wc -l)
	[ "$nl" = 3 ] && [ "$ne" = 0 ] && ok "report timelines: m@1 and m@2 both drawn in service in prod" ||
		nok "report timelines: m@1 and m@2 both drawn in service in prod" "live bars $nl, ended bars $ne"
else
	skip "report agrees with live" "no python3"
fi

# Text: the facts an auditor reads.
expect 0 "text: before any deployment says nothing is live, exit 0" "^live: nothing" \
	"$M" live --env prod --at 2000-01-01
expect 0 "text: the canary moment lists both versions" "^live: m@2" \
	"$M" live --env prod --at "$A2"
grep -q "^live: m@1" out && grep -q "replaced m@1 (deployed at seq $d1)" out &&
	grep -q "inclusion proof (mlledger prove $d2)" out &&
	ok "text: m@1 listed too, m@2's replacement and proof named" ||
	nok "text: m@1 listed too, m@2's replacement and proof named" "$(head -c 400 out)"
expect 0 "text: after retiring m@1 it is listed as ended" "^ended: m@1" \
	"$M" live --env prod --at "$A3"
grep -q "retired seq $r1" out && ! grep -q "^live: m@1" out &&
	ok "text: the retirement's seq is given, m@1 no longer live" ||
	nok "text: the retirement's seq is given, m@1 no longer live" "$(head -c 400 out)"

# Proofs: every deciding entry's bundle verifies against its leaf, with
# verify-proof and by an independent RFC 6962 recomputation; a bundle with
# one hash changed does not.
if [ -n "$PY" ]; then
	"$M" live --env prod --format json >head.json
	"$PY" -c '
import json
d = json.load(open("head.json"))
for v in d["live"] + d["ended"]:
    for x in (v["deployment"], v["retirement"]):
        if x:
            open("p%d.proof" % x["seq"], "w").write(x["proof"])
            print(x["seq"])' >seqs
	bad=
	for s in $(cat seqs); do
		"$M" show "$s" --format raw >"p$s.leaf"
		"$M" verify-proof --log-key log.pub "p$s.proof" "p$s.leaf" >/dev/null 2>&1 || bad="$bad $s"
	done
	[ -z "$bad" ] && [ "$(wc -l <seqs)" = 4 ] && ok "every deciding entry's proof verifies with verify-proof" ||
		nok "every deciding entry's proof verifies with verify-proof" "failed:$bad ($(cat seqs | tr '\n' ' '))"
	bad=
	for s in $(cat seqs); do
		"$PY" - "p$s.proof" "p$s.leaf" <<'EOF' || bad="$bad $s"
import base64, hashlib, sys
# RFC 6962 / RFC 9162 §2.1.3.2, written from the RFC
lines = open(sys.argv[1]).read().split("\n")
assert lines[0] == "c2sp.org/tlog-proof@v1"
index = int(lines[1].split()[1])
i = 2; path = []
while lines[i]:
    path.append(base64.b64decode(lines[i])); i += 1
origin, size, root = lines[i + 1], int(lines[i + 2]), base64.b64decode(lines[i + 3])
h = hashlib.sha256(b"\0" + open(sys.argv[2], "rb").read()).digest()
fn, sn = index, size - 1
for p in path:
    assert sn != 0
    if fn % 2 == 1 or fn == sn:
        h = hashlib.sha256(b"\1" + p + h).digest()
        while fn % 2 == 0 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        h = hashlib.sha256(b"\1" + h + p).digest()
    fn >>= 1; sn >>= 1
assert sn == 0 and h == root, "root mismatch"
EOF
	done
	[ -z "$bad" ] && ok "... and an independent RFC 6962 recomputation reaches the checkpoint root" ||
		nok "... and an independent RFC 6962 recomputation reaches the checkpoint root" "failed:$bad"
	s=$(head -1 seqs)
	"$PY" -c '
import sys
l = open(sys.argv[1]).read().split("\n")
l[2] = ("B" if l[2][0] == "A" else "A") + l[2][1:]
open("bad.proof", "w").write("\n".join(l))' "p$s.proof"
	expect 4 "a proof with one hash changed does not verify" "" \
		"$M" verify-proof --log-key log.pub bad.proof "p$s.leaf"
else
	skip "proofs" "no python3"
fi

# Refusals.
expect 2 "an environment the governance does not declare: exit 2, did you mean" \
	"did you mean prod" "$M" live --env prd
expect 2 "--at that is not a time: exit 2 naming --at" "^mlledger: live: --at" \
	"$M" live --env prod --at yesterday
expect 2 "--at an impossible date: exit 2" "--at" "$M" live --env prod --at 2026-02-30
expect 2 "--format xml: exit 2" "--format" "$M" live --env prod --format xml
expect 2 "no --env: exit 2" "--env" "$M" live
expect 0 "--help describes the time rule" "never by" "$M" live --help

# A ledger edited in SQLite: verification fails, exit 4, no answer.
if [ -n "$HAVE_FORGE" ]; then
	tamper() { # DB SQL: run SQL with the append-only triggers dropped
		"$PY" - "$1" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
trig = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
db.execute("BEGIN")
for n, _ in trig:
    db.execute("DROP TRIGGER " + n)
db.execute(sys.argv[2])
for _, s in trig:
    db.execute(s)
db.execute("COMMIT")
EOF
	}
	cp l.db t1.db && cp l.db.log.key t1.db.log.key
	tamper t1.db "UPDATE entries SET appended_us = appended_us - 86400000000 WHERE seq = $d2"
	expect 4 "a deployment's append time moved back a day in SQLite: exit 4" "" \
		"$M" --ledger t1.db live --env prod
	[ ! -s out ] && ok "... and prints no answer" || nok "... and prints no answer" "$(head -c 200 out)"
	cp l.db t2.db && cp l.db.log.key t2.db.log.key
	tamper t2.db "DELETE FROM entry_index WHERE seq = $r2"
	expect 4 "a retirement's index row deleted (to keep m@2 live): exit 4" "" \
		"$M" --ledger t2.db live --env prod --format json
else
	skip "tampered ledgers" "no python3 with sqlite3 and nacl"
fi

# A deployment backdated by its author: signed with a 2020 time, it is
# live only from its append, and is marked.
if [ -n "$HAVE_FORGE" ]; then
	"$M" sign deployment m@3 --env prod --key ci.key --out dep.json >/dev/null &&
		"$PY" -c 'import base64,json,sys
st = json.loads(base64.b64decode(json.load(open("dep.json"))["payload"]))
st["predicate"]["time"] = "2020-01-01T00:00:00Z"
sys.stdout.write(json.dumps(st, separators=(",", ":")))' |
		"$PY" "$here/forge.py" sign-envelope ci.key >back.json &&
		d3=$(seqof "$("$M" submit back.json)")
	if [ -n "${d3:-}" ]; then
		ok "setup: a deployment signed with author time 2020-01-01 is appended"
		livejson 2021-01-01 prod 'live == []' \
			"at 2021 (after its claimed time) the backdated deployment is not live"
		livejson "$A4" prod 'live == []' "... nor just before it was appended"
		D3=$d3 livejson "" prod 'live == [("m@3", int(os.environ["D3"]))] and d["live"][0]["deployment"]["backdated"] is True and d["live"][0]["deployment"]["time"] == "2020-01-01T00:00:00Z"' \
			"at the head it is live, marked backdated, its claimed time shown"
		expect 0 "text marks it BACKDATED" "BACKDATED" "$M" live --env prod
	else
		nok "setup: a deployment signed with author time 2020-01-01 is appended" "$(cat err 2>/dev/null)"
	fi
else
	skip "backdated deployment" "no python3 with sqlite3 and nacl"
fi

# An environment dropped from the governance later keeps its history; a
# typo is still refused.
"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1])); d["environments"] = ["dev", "prod"]
json.dump(d, open("gov2.json", "w"))' "$UNGATED" &&
	"$M" governance set gov2.json --key admin.key >/dev/null 2>err
if [ $? = 0 ]; then
	expect 0 "staging, no longer declared, still answers with its history" "^live: m@1" \
		"$M" live --env staging
	expect 2 "an environment never declared nor deployed to is still refused" "did you mean" \
		"$M" live --env prd
else
	nok "setup: governance without staging" "$(head -c 300 err)"
fi


# A re-deployment of a version already in service there is not an end of
# service: the report ends the earlier row "redeployed: REF (seq N)" and the
# version stays in service through the later one, the row live names.
if [ -n "$PY" ]; then
	e1=$(seqof "$("$M" record deployment m@1 --env dev --key ci.key 2>err)"); step
	e2=$(seqof "$("$M" record deployment m@1 --env dev --key ci.key 2>>err)")
	AE=$(after "$e2")
	"$M" report --from 2000-01-01 --to 2100-12-31 --as-of "$AE" --generated-at 2000-01-01T00:00:00Z \
		--format json --force --out rl.json >/dev/null 2>>err
	"$M" live --env dev --at "$AE" --format json >rl-live.json 2>>err
	if E1=$e1 E2=$e2 "$PY" -c '
import json, os, sys
E1, E2 = int(os.environ["E1"]), int(os.environ["E2"])
r = json.load(open("rl.json"))
lv = json.load(open("rl-live.json"))
deps = [(d["ref"], d["seq"], d["endSeq"] if d["end"] else None, d["endReason"])
        for d in r["inventory"]["deployments"] if d["environment"] == "dev"]
want = [("m@1", E1, E2, "redeployed: m@1 (seq %d)" % E2), ("m@1", E2, None, "in service")]
assert deps == want, deps
assert [(v["ref"], v["deployment"]["seq"]) for v in lv["live"]] == [("m@1", E2)], lv["live"]
' 2>pyerr; then
		ok "a re-deployment: the earlier row ends \"redeployed\", the version stays in service, as live says"
	else
		nok "a re-deployment: the earlier row ends \"redeployed\", the version stays in service, as live says" \
			"$(head -c 200 err) $(tail -c 400 pyerr)"
	fi
fi

finish
