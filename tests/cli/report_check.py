#!/usr/bin/env python3
"""Checks of mlledger audit reports, for tests/cli/report.sh.

    report_check.py json REPORT.json        facts of the fixture ledger
    report_check.py html REPORT.html        the same facts, parsed as HTML, and safety
    report_check.py csv DIR                 RFC 4180 and formula neutralisation
    report_check.py schema SCHEMA REPORT.json   validates (skips without jsonschema)
    report_check.py findings REPORT.html REPORT.json summary|all
                                            the findings as --detail prints them
    report_check.py print REPORT.html       print markup: running header, breaks
    report_check.py pages MAX FILE.pdf      at most MAX pages (prints the count)
    report_check.py pdftext FILE.txt WORD[:N]...  pdftotext output: each WORD
                                            whole (at least N times), page numbers,
                                            the running header
    report_check.py counts REPORT.json RULE REF   "RULE:N REF:N" for pdftext: how
                                            often the print shows them at least

Prints one line per failed check and exits 1 when any failed.  The fixture
(see report.sh) has hostile values: HOSTILE below, a 60,000-byte string, and
a right-to-left override.
"""
import csv
import html.parser
import json
import os
import sys

HOSTILE = '<script>alert("x")</script>\'"><img src=x onerror=alert(1)>'
RLO = "\u202e"
LONG = "L" * 60000
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)


def finish():
    for f in FAILS:
        print("FAIL: " + f)
    sys.exit(1 if FAILS else 0)


def by(rows, key, value):
    return [r for r in rows if r.get(key) == value]


def check_json(path):
    r = json.load(open(path, encoding="utf-8"))
    inv = r["inventory"]
    check(r["schemaVersion"] == 1, "schemaVersion")
    check(r["integrity"]["ok"] is True, "integrity ok")
    check(r["scope"]["from"] == "2026-10-01" and r["scope"]["to"] == "2026-12-31", "period")
    check(r["scope"]["policies"][0]["id"] == "production", "policy id")
    check(len(r["scope"]["policies"][0]["sha256"]) == 64, "policy sha256")
    # when the ledger began, and verify's time warnings (the fixture is an
    # import of backdated history: a backfill)
    check(isinstance(r["scope"]["ledgerStart"], str), "scope.ledgerStart")
    t = r["integrity"]["time"]
    check(t["timeWarningsTotal"] == len(t["timeWarnings"]) and t["timeWarningsTotal"] > 0,
          "integrity.time.timeWarnings")
    check(isinstance(t["backfills"], list) and isinstance(t["statement"], str),
          "integrity.time.backfills")
    # entries before the period (a model of September) are not in the period
    check(r["scope"]["ledger"]["entriesInPeriod"] < r["scope"]["ledger"]["entriesConsidered"],
          "entries in period < considered")
    refs = sorted(m["ref"] for m in inv["models"])
    check(refs == ["fraud@1.0", "fraud@1.1", "risk@2.0"], "models %s" % refs)
    check("old@0.1" not in refs, "old@0.1 (outside the period) listed")
    ds = {d["ref"]: d for d in inv["datasets"]}
    check(set(ds) == {"cb@2026-09", "tx@2026-10"}, "datasets %s" % sorted(ds))
    check(ds["tx@2026-10"]["pii"] is True and ds["tx@2026-10"]["dpia"] == "DPIA-7", "pii/dpia")
    check(ds["cb@2026-09"]["license"] == HOSTILE, "hostile licence kept verbatim in JSON")
    check(ds["cb@2026-09"]["digest"].startswith("sha256:"), "dataset digest")
    deps = inv["deployments"]
    check([(d["ref"], d["environment"]) for d in deps] ==
          [("fraud@1.0", "prod"), ("risk@2.0", "staging"), ("fraud@1.1", "prod")],
          "deployments (seq order) %s" % [(d["ref"], d["environment"]) for d in deps])
    d10, d11 = by(deps, "ref", "fraud@1.0")[0], by(deps, "ref", "fraud@1.1")[0]
    check(d11["replaces"] == "fraud@1.0", "1.1 replaces 1.0")
    check(d10["endSeq"] == d11["seq"], "1.0 ended by the 1.1 deployment")
    check(d11["end"] is None and d11["endReason"] == "in service", "1.1 in service")
    check(len(inv["retirements"]) == 1 and inv["retirements"][0]["ref"] == "fraud@1.0",
          "retirement of 1.0")
    check(len(inv["incidents"]) == 1 and inv["incidents"][0]["severity"] == "medium",
          "incident")
    ch = by(r["chains"], "ref", "fraud@1.1")[0]
    check(len(ch["approvals"]) == 2, "two approvals in the 1.1 chain")
    check(sorted(a["author"] for a in ch["approvals"]) == ["alice", "bob"], "approvers")
    check(all(a["digest"] == ch["digest"] for a in ch["approvals"]), "approvals bound")
    check(len(ch["evaluations"]) == 1 and ch["evaluations"][0]["metrics"]["auc"] == 0.91,
          "evaluation of 1.1")
    check(len(ch["monitoring"]) == 3, "three monitoring checks of 1.1")
    check([d["ref"] for d in ch["datasets"]] == ["cb@2026-09", "tx@2026-10"], "chain datasets")
    check(ch["gate"]["verdict"] in ("pass", "deny"), "gate verdict")
    cmp = {(c["ref"], c["metric"]): c for c in r["comparisons"]}
    auc = cmp.get(("fraud@1.1", "auc"))
    check(auc is not None and abs(auc["delta"] - 0.03) < 1e-9 and auc["verdict"] == "better"
          and auc["baseline"] == "fraud@1.0", "auc delta +0.03 better: %s" % auc)
    lat = cmp.get(("fraud@1.1", "latency_ms"))
    # no direction is declared for latency_ms (the default governance knows
    # auc, rmse, ...): a name says nothing, so it has changed, never better
    check(lat is not None and lat["delta"] == 5 and lat["verdict"] == "changed",
          "latency +5 changed (no declared direction): %s" % lat)
    mon = [m for m in r["monitoring"] if m["ref"] == "fraud@1.1"][0]
    check(mon["checks"] == 3, "monitoring checks %s" % mon["checks"])
    check(len(mon["gaps"]) >= 1 and any(g["days"] > 20 for g in mon["gaps"]),
          "a gap over 20 days: %s" % mon["gaps"])
    tr = mon["trend"][0]
    check(tr["metric"] == "auc" and tr["approvalValue"] == 0.91 and tr["verdict"] == "worse",
          "trend against the approval value: %s" % tr)
    f = r["findings"]
    check(f["evaluated"] is True, "findings evaluated")
    check(f["summary"]["findings"] == len(f["items"]) > 0, "findings counted")
    check(any(i["ruleId"] == "PROD-APPROVAL" and i["subject"] == "risk@2.0" and
              i["outcome"] == "fail" for i in f["items"]), "risk@2.0 lacks approvals")
    check(any(i["outcome"] == "waived" and i["waiver"]["by"] == "rita" for i in f["items"]),
          "a finding waived by rita")
    check(all(c["framework"] and c["ref"] for c in f["byControl"]), "byControl rows")
    check(any(c["framework"] == "EU-AI-Act" for c in f["byControl"]), "EU AI Act controls")
    ws = {w["rule"]: w for w in f["waivers"]}
    check(ws.get("PROD-LICENSE", {}).get("status") == "in force", "waiver in force")
    check(ws.get("PROD-INCIDENT", {}).get("status") == "expired", "expired waiver")
    keys = {k["name"]: k for k in r["people"]["keys"]}
    check(keys["eve"]["revokedSeq"] is not None and keys["eve"]["revocationReason"] == "left",
          "eve revoked")
    ev = [e["event"] for e in r["people"]["events"]]
    check("revocation" in ev, "revocation in the period's events")
    finish()


class Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.stack = [], [], [], []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v or "") for k, v in attrs)
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if not self.in_style:
            self.text.append(data)


def check_html(path):
    raw = open(path, encoding="utf-8").read()
    p = Parser()
    p.feed(raw)
    text = "".join(p.text)
    check(raw.startswith("<!DOCTYPE html>"), "doctype")
    check("script" not in p.tags, "a <script> element")
    for tag, k, v in p.attrs:
        check(not k.startswith("on"), "event handler attribute %s on %s" % (k, tag))
        if k in ("href", "src", "xlink:href", "action", "srcset", "data", "poster"):
            check(v.startswith("#"), "external reference %s=%r on %s" % (k, v, tag))
    check("img" not in p.tags, "an <img> element from a value")
    css = raw[raw.find("<style>"):raw.find("</style>")]
    check("url(" not in css and "@import" not in css, "CSS fetches something")
    check(HOSTILE in text, "the hostile value, shown as text")
    check(LONG in text, "the 60,000-byte value")
    check(RLO not in raw, "a raw right-to-left override")
    check("\u2039U+202E\u203a" in text, "the override shown as a visible code")
    for fact in ("fraud@1.0", "fraud@1.1", "risk@2.0", "cb@2026-09", "tx@2026-10",
                 "DPIA-7", "PROD-APPROVAL", "EU-AI-Act", "superseded by fraud@1.1",
                 "replaced it in production", "Evidence chain per deployment",
                 "Monitoring cadence", "Keys and people", "left"):
        check(fact in text, "fact %r in the HTML text" % fact)
    check(p.tags.count("svg") >= 3, "inline SVG charts: %d" % p.tags.count("svg"))
    check(p.tags.count("thead") >= 5, "tables with header rows")
    alert = raw.find('class="alert"')
    check(alert < 0, "an integrity alert on a verified ledger")
    finish()


class Tables(html.parser.HTMLParser):
    """The rows of every table: (class, [[cell text, ...], ...])."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.cell, self.in_body = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.tables:
            self.tables[-1][1].append([])
        elif tag == "td" and self.in_body and self.tables:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.tables[-1][1][-1].append("".join(self.cell))
            self.cell = None
        elif tag in ("tbody", "table"):
            self.in_body = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def check_findings(path, json_path, mode):
    items = json.load(open(json_path, encoding="utf-8"))["findings"]["items"]
    p = Tables()
    p.feed(open(path, encoding="utf-8").read())
    tables = {c: rows for c, rows in p.tables}
    passes = [i for i in items if i["outcome"] == "pass"]
    check(passes and len(passes) < len(items), "the fixture has passing and other findings")
    if mode == "all":
        check(len(tables.get("findings", [])) == len(items),
              "--detail all: %d finding rows, want %d" % (len(tables.get("findings", [])), len(items)))
        check("rules" not in tables and "findings listed" not in tables, "--detail all: no summary")
        finish()
    listed = tables.get("findings listed", [])
    check(len(listed) == len(items) - len(passes),
          "summary: %d listed rows, want %d (every finding that is not a pass)" %
          (len(listed), len(items) - len(passes)))
    check(all(r[1] != "pass" for r in listed), "a passing finding listed on its own row")
    rules = {}
    for i in items:
        rules.setdefault((i["policy"], i["ruleId"]), []).append(i)
    rows = tables.get("rules", [])
    check(len(rows) == len(rules), "summary: %d rule rows, want %d" % (len(rows), len(rules)))
    for r in rows:
        key = (r[5], r[0])
        fs = rules.get(key, [])
        pairs = {(f["subject"], f["environment"]) for f in fs if f["outcome"] == "pass"}
        want = "passed for %d version/environment pair%s" % (len(pairs), "" if len(pairs) == 1 else "s")
        check(r[3].startswith(want), "rule %s: %r, want it to start %r" % (key, r[3], want))
        fails = sum(1 for f in fs if f["outcome"] == "fail")
        check(not fails or (("failed for %d" % fails) in r[3] and "(listed above)" in r[3]),
              "rule %s: %r does not count %d failures" % (key, r[3], fails))
        check(fs and r[4] == "; ".join(c["label"] for c in fs[0]["controls"]),
              "rule %s: controls %r" % (key, r[4][:80]))
    finish()


def check_print(path):
    raw = open(path, encoding="utf-8").read()
    style = raw[raw.find("<style>"):raw.find("</style>")]
    check("@page" in style and "size: A4" in style, "an A4 @page rule")
    check('counter(page) " of " counter(pages)' in style, "page N of M")
    check("thead { display: table-header-group; }" in style, "repeated table headers")
    check('@page { @top-left { content: "Audit report \u00b7 report-test/ledger \u00b7 '
          '2026-10-01 to 2026-12-31"; } }' in style, "the running header with origin and period")
    check("overflow-wrap: anywhere" not in style, "cells that break anywhere")
    # digests break every 16 hex characters, nowhere else; ids are whole
    check("sha256:<wbr>" + "<wbr>".join(["0" * 16] * 3) + "<wbr>" + "0" * 15 + "3" in raw,
          "a digest with a break chance every 16 characters")
    check("</wbr>" not in raw, "a closing wbr tag")
    check('<td class="id">PROD-APPROVAL</td>' in raw, "a rule id cell that never breaks")
    check('<td class="id">cb@2026-09</td>' in raw, "a NAME@VERSION cell that never breaks")
    check('<td class="v-better">better</td>' in raw, "a verdict cell: its value class only")
    check('<span class="id">2026-10-05</span><wbr><span class="id">T00:00:00Z</span>' in raw,
          "a time that breaks only between date and time")
    finish()


def check_pages(most, pdf):
    import re
    n = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", open(pdf, "rb").read()))
    print("%d pages" % n)
    check(0 < n <= int(most), "%s: %d A4 pages, want at most %s" % (pdf, n, most))
    finish()


def check_pdftext(txt, *words):
    import re
    text = open(txt, encoding="utf-8").read()
    for spec in words:
        w, _, most = spec.partition(":") if not spec.rpartition(":")[2].isdigit() else \
            (spec.rpartition(":")[0], ":", spec.rpartition(":")[2])
        n = text.count(w)
        check(n >= int(most or 1), "%r is whole %d times in the PDF's text, want at least %s"
              % (w, n, most or 1))
    words = [spec.rpartition(":")[0] if spec.rpartition(":")[2].isdigit() else spec
             for spec in words]
    pages = text.count("\f")
    check(("Page 1 of %d" % pages) in text and ("Page %d of %d" % (pages, pages)) in text,
          "page numbers 'Page N of %d'" % pages)
    check(text.count("Audit report \u00b7 ") >= pages, "the running header on every page")
    # an id broken across lines: its characters with line ends between
    broken = []
    for w in words:
        gap = r"(?:[ \t]*\n\s*)?"
        rx = re.compile(gap.join(re.escape(c) for c in w))
        broken += [m.group(0) for m in rx.finditer(text) if "\n" in m.group(0)]
    check(not broken, "ids broken across lines: %r" % broken[:5])
    finish()


def counts(json_path, rule, ref):
    """How often a print of the report shows RULE and REF at least: the
    rule in each listed finding and its row per rule; the version in the
    inventory and each of its deployments."""
    r = json.load(open(json_path, encoding="utf-8"))
    listed = sum(1 for i in r["findings"]["items"] if i["ruleId"] == rule and i["outcome"] != "pass")
    deps = sum(1 for d in r["inventory"]["deployments"] if d["ref"] == ref)
    print("%s:%d %s:%d" % (rule, listed + 1, ref, deps + 1))


def check_html_unverified(path):
    raw = open(path, encoding="utf-8").read()
    p = Parser()
    p.feed(raw)
    body = raw.find("<body")
    alert = raw.find('class="alert"')
    h1 = raw.find("<h1")
    check(body < alert < h1, "the failure stands at the top, before the title")
    check("VERIFICATION FAILED" in "".join(p.text), "VERIFICATION FAILED")
    finish()


def check_csv(d):
    rows = list(csv.reader(open(os.path.join(d, "datasets.csv"), newline="",
                                encoding="utf-8")))
    raw = open(os.path.join(d, "datasets.csv"), "rb").read()
    check(raw.count(b"\r\n") == len(rows), "CRLF line ends")
    uri = [r[8] for r in rows[1:] if r[0] == "cb@2026-09"]
    check(uri == ["'=HYPERLINK(\"http://evil.example/\",\"x\")"], "formula neutralised: %s" % uri)
    lic = [r[5] for r in rows[1:] if r[0] == "cb@2026-09"]
    check(lic == [HOSTILE], "quotes survive CSV quoting: %s" % lic)
    mrows = list(csv.reader(open(os.path.join(d, "comparisons.csv"), newline="",
                                 encoding="utf-8")))
    check(any(r[3] == "latency_ms" and r[6] == "5" for r in mrows), "numbers stay numbers")
    for name in ("models", "deployments", "chains", "findings", "controls", "keys",
                 "time-warnings", "backfills"):
        check(os.path.exists(os.path.join(d, name + ".csv")), name + ".csv")
    for row in rows[1:]:
        for c in row:
            check(not c or c[0] not in "=+-@\t\r", "unneutralised cell %r" % c[:40])
    finish()


def check_schema(schema, report):
    try:
        import jsonschema
    except ImportError:
        print("SKIP: python3-jsonschema absent")
        sys.exit(0)
    jsonschema.validate(json.load(open(report)), json.load(open(schema)))
    finish()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"json": check_json, "html": check_html, "unverified": check_html_unverified,
     "csv": check_csv, "schema": check_schema, "findings": check_findings,
     "print": check_print, "pages": check_pages, "pdftext": check_pdftext,
     "counts": counts}[cmd](*args)
