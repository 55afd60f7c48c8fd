#!/usr/bin/env python3
"""Writes the JSON lines of a ledger with many model versions, for the
print-layout checks of tests/cli/report.sh (a report over 30 versions must
stay readable on A4).

    report_many.py ci|bob|alice N   the entries signed by that key

    report_many.py deploy N         the deployments and monitoring (ci)
    report_many.py refs N           "REF ENV" per line: the gates to run

8 model families with realistic names; version k of a family is
NAME@1.k.0.  Each version has a dataset, an evaluation (bob), two
approvals per environment (bob and alice), a deployment to staging and one
to prod that replaces the previous version, and a monitoring check, all
between 2026-04-01 and 2026-09-30.  Every version is better than its
parent except the last of the first family (a regression, so the report
has failed findings too).  The same N gives the same ledger.
"""
import json
import sys

FAMILIES = ["fraud-detector", "credit-scoring", "churn-predictor", "aml-screening",
            "kyc-document-classifier", "claims-triage", "pricing-elasticity", "collections-priority"]


def refs(n):
    out = []
    for i in range(n):
        fam, ver = FAMILIES[i % len(FAMILIES)], i // len(FAMILIES)
        out.append((i, fam, "%s@1.%d.0" % (fam, ver), "%s@1.%d.0" % (fam, ver - 1) if ver else None))
    return out


def day(i, hour):
    # from 2026-04-02, a version every 4 days (30 days a month is near enough)
    d = 1 + i * 4
    return "2026-%02d-%02dT%02d:00:00Z" % (4 + d // 30, 1 + d % 30, hour)


def line(o):
    print(json.dumps(o, separators=(",", ":")))


def main():
    who, n = sys.argv[1], int(sys.argv[2])
    for i, fam, ref, parent in refs(n):
        ver = i // len(FAMILIES)
        auc = round(0.80 + ver * 0.02 + (i % len(FAMILIES)) * 0.001, 3)
        if i % len(FAMILIES) == 0 and ver and i + len(FAMILIES) >= n:
            auc = 0.75  # the regression
        if who == "refs":
            print(ref, "staging")
            print(ref, "prod")
        if who == "ci":
            line({"kind": "dataset", "subject": "%s-train@2026-q4-%02d" % (fam, i),
                  "digest": "sha256:%064x" % (1000 + i),
                  "properties": {"license": "internal", "pii": False}, "time": day(i, 1)})
            m = {"kind": "model", "subject": ref, "digest": "sha256:%064x" % (5000 + i),
                 "datasets": ["%s-train@2026-q4-%02d" % (fam, i)],
                 "metrics": {"auc": auc, "latency_ms": 20 + i % 5}, "time": day(i, 2)}
            if parent:
                m["parent"] = parent
            line(m)
        elif who == "bob":
            line({"kind": "evaluation", "subject": ref, "metrics": {"auc": auc, "latency_ms": 20 + i % 5},
                  "time": day(i, 3)})
            for env in ("staging", "prod"):
                line({"kind": "approval", "subject": ref, "environment": env, "decision": "approve",
                      "time": day(i, 4)})
        elif who == "alice":
            for env in ("staging", "prod"):
                line({"kind": "approval", "subject": ref, "environment": env, "decision": "approve",
                      "time": day(i, 5)})
        elif who == "deploy":
            line({"kind": "deployment", "subject": ref, "environment": "staging", "time": day(i, 6)})
            line({"kind": "deployment", "subject": ref, "environment": "prod", "time": day(i, 7)})
            line({"kind": "monitoring", "subject": ref, "environment": "prod",
                  "metrics": {"auc": round(auc - 0.01, 2)}, "time": day(i, 20)})


if __name__ == "__main__":
    main()
