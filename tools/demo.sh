#!/bin/sh
# The demo story: two datasets, a model and its retrained successor, two
# approvers, a deployment and monitoring checks, recorded in demo/ledger.db.
# Usage: tools/demo.sh /abs/path/to/mlledger
set -eu
M="$1"
rm -rf demo
mkdir -p demo/keys demo/data/credit-bureau demo/models/fraud-v1 demo/models/fraud-v2
cd demo
L="--ledger ledger.db"
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ mlledger %s\n' "$*"; "$M" "$@"; }
# gate_then_deploy REF [--set ...]: the CI step before a deployment to prod:
# the gate (its decision recorded), then the deployment only if it passed.
gate_then_deploy() {
	ref=$1
	shift
	if run $L gate --policy production "$ref" --env prod --key keys/ci.key; then
		run $L record deployment "$ref" --env prod "$@" --key keys/ci.key
	else
		echo "(the gate denied $ref: not deployed)"
	fi
}

say "Keys: an admin, the CI pipeline, two approvers and a risk officer"
for k in admin ci alice bob rita; do "$M" key new "$k" --dir keys >/dev/null; done
ls keys

say "A new ledger: its genesis enrols the admin and declares the governance (the default here)"
run $L init --key keys/admin.key --origin demo.mlledger.example/fraud
run $L governance show
say "Every key belongs to a person: policies count people, not keys"
run $L key enroll keys/ci.pub --holder-key keys/ci.key --role engineer --key keys/admin.key
say "Alice, on her own machine, proves she holds her key and says who she is (for this ledger only)"
run key possess --key keys/alice.key --origin demo.mlledger.example/fraud --name "Alice Martin" \
	--email alice@example.com --employee-id E-1042 --out keys/alice.pop
run $L key enroll keys/alice.pub --possession keys/alice.pop --role approver --key keys/admin.key
run $L key enroll keys/bob.pub --holder-key keys/bob.key --role approver,validator --name "Bob Chen" --key keys/admin.key
run $L key enroll keys/rita.pub --holder-key keys/rita.key --role risk-officer --name "Rita Okafor" --key keys/admin.key

say "The risk officer records the policies: gates use the recorded bytes and params, never a local file"
run $L policy record ../policies/production.xml --key keys/rita.key
run $L policy record ../policies/monitoring.xml --key keys/rita.key

say "Two datasets, hashed where they lie"
printf 'id,amount,label\n1,12.5,0\n2,990.0,1\n' > data/credit-bureau/part-0.csv
printf 'id,amount,label\n3,7.25,0\n' > data/credit-bureau/part-1.csv
printf 'txn,merchant\n1,acme\n' > data/transactions.csv
run $L record dataset credit-bureau@2026-10 --file data/credit-bureau --set license=CC-BY-4.0 --set pii=false --key keys/ci.key
run $L record dataset transactions@2026-11 --file data/transactions.csv --set license=internal --set pii=true --set dpia=DPIA-2026-031 --key keys/ci.key

say "Model v1, evaluated, approved by two approvers, gated (decision recorded), deployed"
printf 'weights-v1' > models/fraud-v1/model.bin; printf '{"layers":3}' > models/fraud-v1/config.json
run $L record model fraud-detector@3.0.0 --artifact models/fraud-v1 --dataset credit-bureau@2026-10 --metric auc=0.88 --key keys/ci.key
run $L record evaluation fraud-detector@3.0.0 --metric auc=0.88 --metric recall=0.71 --dataset credit-bureau@2026-10 --key keys/bob.key
run $L record approval fraud-detector@3.0.0 --env prod --decision approve --comment "validated on holdout" --key keys/alice.key
run $L record approval fraud-detector@3.0.0 --env prod --decision approve --key keys/bob.key
gate_then_deploy fraud-detector@3.0.0 --set replicas=3
run $L record monitoring fraud-detector@3.0.0 --env prod --metric auc=0.87 --key keys/ci.key

say "An outside auditor takes the log key and a checkpoint now, and runs a witness (in demo/auditor)"
mkdir -p auditor
"$M" $L log-key > auditor/log.pub          # handed over out of band, once
"$M" $L checkpoint > auditor/held.ckpt     # the auditor keeps this one
"$M" key new auditor-witness --dir auditor >/dev/null
run cosign --key auditor/auditor-witness.key --log-key auditor/log.pub --state auditor/witness.state --init auditor/held.ckpt --out auditor/held.cosigned

say "Retrained v2 on more data, better AUC; approvals signed offline then submitted"
printf 'weights-v2' > models/fraud-v2/model.bin; printf '{"layers":4}' > models/fraud-v2/config.json
run $L record model fraud-detector@3.1.0 --artifact models/fraud-v2 --dataset credit-bureau@2026-10 --dataset transactions@2026-11 --parent fraud-detector@3.0.0 --metric auc=0.91 --key keys/ci.key
run $L record evaluation fraud-detector@3.1.0 --metric auc=0.91 --metric recall=0.76 --dataset transactions@2026-11 --key keys/bob.key
run $L sign approval fraud-detector@3.1.0 --env prod --decision approve --comment "beats v3.0.0 by 0.03 AUC" --key keys/alice.key --out alice-approval.dsse
run $L submit alice-approval.dsse
run $L record approval fraud-detector@3.1.0 --env prod --decision approve --key keys/bob.key
gate_then_deploy fraud-detector@3.1.0
run $L record retirement fraud-detector@3.0.0 --env prod --reason "superseded by 3.1.0" --key keys/ci.key
run $L record monitoring fraud-detector@3.1.0 --env prod --metric auc=0.90 --key keys/ci.key

say "What the ledger refuses (nothing is written)"
run $L record model fraud-detector@3.1.0 --digest sha256:0000000000000000000000000000000000000000000000000000000000000000 --key keys/ci.key || echo "(exit $?: versions are immutable)"
run $L record approval fraud-detector@3.1.0 --env prod --decision approve --key keys/ci.key || echo "(exit $?: the CI key is an engineer's; only approvers sign approvals)"
run $L record deployment fraud-detector@3.1.0 --env canary --key keys/ci.key || echo "(exit $?: canary is not an environment the ledger's governance declares)"
run $L gate --policy production fraud-detector@3.1.0 --env prod --param min-approvers=0 --key keys/ci.key || echo "(exit $?: a recorded decision binds the recorded params)"
run $L gate --policy ../policies/production.xml fraud-detector@3.1.0 --env prod --key keys/ci.key || echo "(exit $?: a recorded decision needs a recorded policy)"
printf 'weights-v3-rc1' > models/fraud-v3-rc1.bin
run $L record model fraud-detector@3.2.0-rc1 --artifact models/fraud-v3-rc1.bin --dataset credit-bureau@2026-10 --parent fraud-detector@3.1.0 --metric auc=0.92 --key keys/ci.key
run $L record deployment fraud-detector@3.2.0-rc1 --env prod --key keys/ci.key || echo "(exit $?: prod needs a passing gate decision for these bytes: the governance's gates)"

say "The history of one model"
run $L log --subject fraud-detector
say "Everything checked, and every recorded gate decision replayed"
run $L verify --decisions

say "Transparency: a signed checkpoint, an inclusion proof checked offline, a witness"
"$M" $L checkpoint > q4.ckpt
run $L checkpoint
"$M" $L log-key > log.pub
"$M" key new witness --dir keys >/dev/null
"$M" $L prove 15 > e15.proof
"$M" $L show 15 --format raw > e15.leaf
run verify-proof --log-key log.pub e15.proof e15.leaf
run cosign --key keys/witness.key --log-key log.pub --state witness.state --init q4.ckpt --out q4.cosigned
printf 'log %s\nwitness w1 %s\nquorum w1\n' "$(cat log.pub)" "$("$M" witness-key --key keys/witness.key)" > trust.policy
run $L export --out audit-bundle --key keys/admin.key
run verify --bundle audit-bundle --trust trust.policy --checkpoint q4.cosigned
run $L record monitoring fraud-detector@3.1.0 --env prod --metric auc=0.89 --key keys/ci.key
run $L verify --checkpoint q4.ckpt
say "A gate that denies (no approvals for staging); its decision is recorded too"
if run $L gate --policy production fraud-detector@3.0.0 --env staging --key keys/ci.key; then
	echo "(the demo's denied gate passed)"
	exit 1
else
	echo "(exit 1: denied, as it should be)"
fi
run $L log --kind gate
say "Policy tests and a check of every deployment"
run policy test ../policies/tests/production.tests.xml
run $L check --policy production --phase audit || echo "(exit $?: findings above)"
run $L check --policy monitoring || echo "(exit $?: findings above)"

say "The audit report of the last 30 days (reports/README.md), signed by an auditor"
"$M" key new auditor --dir keys >/dev/null
FROM=$(date -u -d '-30 days' +%F)
TO=$(date -u +%F)
R="report --policy production --from $FROM --to $TO"
# --force: a second 'make demo' replaces the reports of the first.
run $L $R --format html --out ../reports/demo.html --sign keys/auditor.key --force
run $L $R --format md --out ../reports/demo.md --force
run $L $R --format json --out ../reports/demo.json --force
run $L $R --format csv --out ../reports/demo-csv --force
run verify-report ../reports/demo.html --key keys/auditor.pub

say "For auditors: the team exports since the auditor's checkpoint; the auditor checks it alone"
run $L export --out q4-bundle --key keys/admin.key --since auditor/held.ckpt
cd auditor
B=../q4-bundle
run verify-consistency --log-key log.pub held.ckpt $B/checkpoint $B/consistency.proof
run cosign --key auditor-witness.key --log-key log.pub --state witness.state --proof $B/consistency.proof $B/checkpoint --out q4.cosigned
printf 'log %s\nwitness aw %s\nquorum aw\n' "$(cat log.pub)" "$("$M" witness-key --key auditor-witness.key)" > trust.policy
run verify --bundle $B --log-key log.pub --checkpoint held.cosigned --checkpoint q4.cosigned --trust trust.policy
# Read a copy, so that the bundle stays exactly what its manifest lists.
cp $B/ledger.db q4.db
run --ledger q4.db population --kind deployment --format csv --out deployments.csv
cat deployments.csv
run sample --population deployments.csv --n 2 --seed audit-2026Q4 --out sample.csv
for seq in $(grep -v '^#' sample.csv | tail -n +2 | cut -d, -f1); do
	run --ledger q4.db trace "$seq" --out "trace-$seq.txt"
	sed '/^inclusion proofs/q' "trace-$seq.txt"
done
cd ..

say "One ledger for the organisation: serve on loopback; a CI runner (CLI) and a Python training pipeline record through it"
# (clients/python/examples/pipeline.py: signs on its host, verifies every proof, keeps a state)
if /usr/bin/python3 -c 'import nacl' 2>/dev/null; then
	rm -f serve.url
	"$M" $L serve --listen 127.0.0.1:0 --ready-file serve.url 2>serve.log &
	spid=$!
	trap 'kill -TERM $spid 2>/dev/null || true' EXIT
	i=0
	while [ ! -s serve.url ] && [ $i -lt 100 ] && kill -0 $spid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	"$M" $L log-key > log.pub
	# A CI runner on another host: it pins the log key, keeps a state file
	# (fork detection) and a verified mirror; its key never leaves it.
	C="--server $(cat serve.url) --log-key log.pub --state runner.state"
	S="$C --mirror runner-mirror.db"
	run checkpoint $C
	printf 'weights-v3' > models/fraud-v3.bin
	run record model fraud-detector@3.2.0 --artifact models/fraud-v3.bin --dataset credit-bureau@2026-10 --parent fraud-detector@3.1.0 --metric auc=0.92 $S --key keys/ci.key
	run record evaluation fraud-detector@3.2.0 --metric auc=0.92 --dataset credit-bureau@2026-10 $S --key keys/bob.key
	run record approval fraud-detector@3.2.0 --env staging --decision approve $S --key keys/alice.key
	run record approval fraud-detector@3.2.0 --env staging --decision approve $S --key keys/bob.key
	# The remote gate: evidence mirrored and checked here, evaluated here,
	# the decision signed here and posted (the server replays it).
	run gate --policy production fraud-detector@3.2.0 --env staging $S --key keys/ci.key ||
		echo "(the gate denied fraud-detector@3.2.0 in staging)"
	printf '$ python3 clients/python/examples/pipeline.py --server %s ...\n' "$(cat serve.url)"
	PYTHONPATH=../clients/python /usr/bin/python3 ../clients/python/examples/pipeline.py \
		--server "$(cat serve.url)" --key keys/ci.key --eval-key keys/bob.key \
		--log-key log.pub --state pipeline.state --workdir pipeline --version 2026.12
	kill -TERM $spid
	wait $spid || true
	trap - EXIT
	run $L verify
else
	echo "(python3-nacl is not installed: the Python client part is skipped)"
fi

printf '\nThe demo ledger is demo/ledger.db; try: build/mlledger --ledger demo/ledger.db show 12\n'
printf 'The demo report: reports/demo.html (signed: reports/demo.html.sig.json), reports/demo.md,\n'
printf 'reports/demo.json and reports/demo-csv/*.csv\n'
