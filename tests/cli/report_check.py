#!/usr/bin/env python3
"""Checks of mlledger audit reports, for tests/cli/report.sh.

    report_check.py json REPORT.json        facts of the fixture ledger
    report_check.py html REPORT.html        the same facts, parsed as HTML, and safety
    report_check.py csv DIR                 RFC 4180 and formula neutralisation
    report_check.py schema SCHEMA REPORT.json   validates (skips without jsonschema)
    report_check.py summary R.json R.html R.md  the summary first, recomputed from the
                                            rest of the JSON, as HTML and Markdown show it;
                                            plain labels and people by name
    report_check.py direction declared|open R.json R.html
                                            metric verdicts by declared direction
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
import re
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
    # rule 11: deploying 1.1 beside 1.0 ends nothing; 1.0's retirement does
    ret10 = [x for x in inv["retirements"] if x["ref"] == "fraud@1.0"]
    check(len(ret10) == 1 and d10["endSeq"] == ret10[0]["seq"] and d10["endSeq"] > d11["seq"]
          and d10["endReason"] == "retired: fraud@1.0 (seq %d)" % ret10[0]["seq"],
          "1.0 ended by its retirement, not by the 1.1 deployment: %s" % d10.get("endReason"))
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
    check(abs(tr.get("threshold", 0) - 0.90) < 1e-9 and
          tr.get("thresholdSource", "").startswith("production@") and
          tr["thresholdSource"].endswith("metric-tolerance 0.01"),
          "the threshold: approval value minus the policy's metric-tolerance: %s" % tr)
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
                 "DPIA-7", "PROD-APPROVAL", "EU-AI-Act", "retired: fraud@1.0",
                 "replaced it in production", "Evidence chain per deployment",
                 "Monitoring cadence", "Keys and people", "left"):
        check(fact in text, "fact %r in the HTML text" % fact)
    check(p.tags.count("svg") >= 3, "inline SVG charts: %d" % p.tags.count("svg"))
    # a timeline per environment: versions as labelled bars, seqs in titles
    figs = re.findall(r"<figure>(.*?)</figure>", raw, re.S)
    tl = {e: [f for f in figs if "Versions in %s over the period" % e in f] for e in ("prod", "staging")}
    check(all(len(v) == 1 for v in tl.values()), "one timeline per environment: %s" %
          {e: len(v) for e, v in tl.items()})
    prod = tl["prod"][0] if tl["prod"] else ""
    check(">fraud@1.0</text>" in prod and ">fraud@1.1</text>" in prod and prod.count("<rect") == 2,
          "prod's timeline: a labelled bar for fraud@1.0 and fraud@1.1")
    check("fraud@1.0 in prod: deployed at seq" in prod and "retired: fraud@1.0" in prod
          and "superseded" not in prod,
          "the bar's title names its deployment seq and what ended it")
    stg = tl["staging"][0] if tl["staging"] else ""
    check(">risk@2.0</text>" in stg and "in service" in stg, "staging's timeline: risk@2.0 in service")
    # the monitored metric over time, with the policy's threshold line
    auc = [f for f in figs if "fraud@1.1 in prod: auc" in f]
    check(len(auc) == 1 and 'class="threshold"' in auc[0] and "production@" in auc[0] and
          auc[0].count("<circle") == 3, "the auc chart: three checks and the threshold line")
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


VOID = {"meta", "br", "img", "hr", "link", "input", "col", "area", "base", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids = tag, dict(attrs), parent, []

    def text(self):
        return "".join(k if isinstance(k, str) else k.text() for k in self.kids)

    def walk(self):
        yield self
        for k in self.kids:
            if isinstance(k, Node):
                yield from k.walk()

    def find_all(self, tag=None, cls=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and
                (cls is None or cls in n.attrs.get("class", "").split()) and
                all(n.attrs.get(k) == v for k, v in attrs.items())]


class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", [], None)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        if self.cur.tag != "style":
            self.cur.kids.append(data)


def tree(path):
    t = Tree()
    t.feed(open(path, encoding="utf-8").read())
    return t.root


def expected_summary(r):
    """The summary recomputed here from the other members (the definitions
    of reports/README.md, item 0)."""
    items = r["findings"]["items"]
    deny = sum(1 for i in items if i["outcome"] == "fail" and i["severity"] == "deny")
    warn = sum(1 for i in items if i["outcome"] == "fail" and i["severity"] == "warn")
    waived = sum(1 for i in items if i["outcome"] == "waived")
    ind = sum(1 for i in items if i["outcome"] == "indeterminate")
    if not r["findings"]["evaluated"]:
        result = "no policy evaluated"
    elif r["integrity"]["ok"] and not (deny or warn or ind):
        result = "clean"
    else:
        result = "findings: %d deny, %d warn" % (deny, warn) + (
            ", %d indeterminate" % ind if ind else "")
    if not r["integrity"]["ok"]:
        result = "ledger failed verification; " + result
    fw = {}
    for i in items:
        key = {"fail": i["severity"], "waived": "waived"}.get(i["outcome"])
        if key not in ("deny", "warn", "waived"):
            continue
        for name in sorted({c["framework"] for c in i["controls"]}):
            fw.setdefault(name, {"framework": name, "deny": 0, "warn": 0, "waived": 0})[key] += 1
    start, end = r["scope"]["periodStart"], r["scope"]["periodEnd"]
    dep = [c for c in r["chains"] if start <= c["time"] <= end]
    gated = [c for c in dep if c["gateDecisions"] and
             c["gateDecisions"][-1]["result"] == "PASSED" and
             c["gateDecisions"][-1].get("replayStatus") == "same result"]
    live = {d["ref"] for d in r["inventory"]["deployments"] if d["end"] is None}
    return {
        "result": result, "deny": deny, "warn": warn, "waived": waived, "indeterminate": ind,
        "byFramework": [fw[k] for k in sorted(fw)],
        "inPeriod": len(dep), "gated": len(gated),
        "notGated": [c["deploymentSeq"] for c in dep if c not in gated],
        "openIncidents": [x["seq"] for x in r["inventory"]["incidents"] if x["ref"] in live],
        "active": sum(1 for w in r["findings"]["waivers"] if w["status"] != "expired"),
        "expired": sum(1 for w in r["findings"]["waivers"] if w["status"] == "expired"),
        "gaps": sum(len(m["gaps"]) for m in r["monitoring"]),
    }


def check_summary(jpath, hpath, mpath):
    r = json.load(open(jpath, encoding="utf-8"))
    s = r.get("summary", {})
    check(list(r)[:3] == ["schemaVersion", "title", "summary"],
          "summary right after title: %s" % list(r)[:4])
    e = expected_summary(r)
    check(s.get("result") == e["result"], "result %r, want %r" % (s.get("result"), e["result"]))
    check(s.get("clean") is (e["result"] == "clean"), "clean flag")
    f = s.get("findings", {})
    check((f.get("deny"), f.get("warn"), f.get("waived"), f.get("indeterminate")) ==
          (e["deny"], e["warn"], e["waived"], e["indeterminate"]), "finding counts %s, want %s" % (f, e))
    check(s.get("byFramework") == e["byFramework"], "byFramework %s, want %s"
          % (s.get("byFramework"), e["byFramework"]))
    d = s.get("deployments", {})
    check((d.get("inPeriod"), d.get("gated"), d.get("notGated")) ==
          (e["inPeriod"], e["gated"], e["notGated"]), "deployments %s, want %s" % (d, e))
    check(s.get("openIncidents") == e["openIncidents"], "open incidents %s, want %s"
          % (s.get("openIncidents"), e["openIncidents"]))
    w = s.get("waivers", {})
    check((w.get("active"), w.get("expired")) == (e["active"], e["expired"]), "waivers %s" % w)
    check(s.get("monitoring", {}).get("gaps") == e["gaps"], "gaps %s, want %d"
          % (s.get("monitoring"), e["gaps"]))
    check(s.get("integrity", {}).get("verified") is r["integrity"]["ok"], "integrity verdict")
    check(s.get("integrity", {}).get("outside") == r["integrity"]["heldStatement"],
          "what was checked outside")
    check(s.get("scope", {}).get("policies") ==
          ["%s@%s" % (p["id"], p["version"]) for p in r["scope"]["policies"]], "policies by id")
    heads = [l["heading"] for l in s.get("lines", [])]
    check(heads == ["Result", "Period", "Scope", "Integrity", "Findings", "Deployments",
                    "Incidents", "Waivers", "Monitoring"], "summary lines %s" % heads)
    dl = [l for l in s.get("lines", []) if l["heading"] == "Deployments"]
    check(dl and dl[0]["text"].startswith("%d deployment" % e["inPeriod"]) and
          "; %d had a passing, replayed gate decision" % e["gated"] in dl[0]["text"],
          "deployments line %s" % dl)

    # HTML: the summary is the first section, its lines link to sections
    root = tree(hpath)
    secs = root.find_all("section")
    check(secs and secs[0].attrs.get("id") == "summary", "first section %s"
          % (secs[0].attrs if secs else None))
    ids = {n.attrs["id"] for n in root.walk() if "id" in n.attrs}
    summ = secs[0] if secs else Node("x", [], None)
    links = [a.attrs.get("href", "") for a in summ.find_all("a")]
    check(len(links) >= len(heads), "summary links %s" % links)
    for h in links:
        check(h.startswith("#") and h[1:] in ids, "summary link %r to a section" % h)
    res = summ.find_all("p", cls="result")
    check(res and res[0].text() == "Result: " + e["result"], "HTML result line %r"
          % (res[0].text() if res else None))
    check(res and ("ok" if e["result"] == "clean" else "bad") in res[0].attrs["class"].split(),
          "result colour")
    stext = summ.text()
    for l in s.get("lines", []):
        check(l["text"] in stext, "summary line %r in the HTML" % l["heading"])
    text = root.text()
    # plain words, never member names
    for internal in ("failedBySeverity", "decisions: pass=", "pass=", "deny=", "Better/worse"):
        check(internal not in text, "internal label %r in the HTML text" % internal)
    fs = r["findings"]["summary"]
    dec = fs["decisions"]
    for want in ("%d findings: %d passed, %d failed, %d waived, %d indeterminate"
                 % (fs["findings"], fs["pass"], fs["fail"], fs["waived"], fs["indeterminate"]),
                 "Failed, by rule severity: %d deny, %d warn, %d info"
                 % (fs["failedBySeverity"]["deny"], fs["failedBySeverity"]["warn"],
                    fs["failedBySeverity"]["info"]),
                 "%d gate decisions now (one per model version and environment): %d passed, "
                 "%d denied, %d indeterminate" % (sum(dec.values()), dec["pass"], dec["deny"],
                                                 dec["indeterminate"])):
        check(want in text, "plain findings summary %r in the HTML" % want)
    # people by name, key id in small type
    smalls = [n.text() for n in root.find_all("small", cls="keyid")]
    for c in r["chains"]:
        for g in c["gateDecisions"]:
            check(g["label"] in text, "gate decision label in the HTML")
            check(g.get("authorKey", "-") in smalls, "the gate signer's key id in small type")
    who = root.find_all("td", cls="who")
    check(any(n.text().startswith("Alice") or n.text().startswith("alice") for n in who)
          or any(k["personName"] for k in r["people"]["keys"]), "people cells")
    for n in who:
        sm = n.find_all("small")
        if sm:
            check(n.text().replace(sm[0].text(), "").strip() != "", "a name before the key id")
    for k in r["people"]["keys"]:
        check(k["personName"] or k["person"] or k["name"], "a key with no name at all")

    # Markdown: the same summary first, linked to headings that exist
    md = open(mpath, encoding="utf-8").read()
    check(0 <= md.find("## Summary") < md.find("## 1. Scope"), "Markdown summary first")
    check("**[Result](#7-findings): " + e["result"].replace("_", "\\_") + "**" in md,
          "Markdown result line")
    import re
    slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
             for h in re.findall(r"^#+ (.*)$", md, re.M)}
    for a in re.findall(r"\]\(#([^)]*)\)", md):
        check(a in slugs, "Markdown link #%s to a heading" % a)
    for internal in ("failedBySeverity", "decisions: pass="):
        check(internal not in md, "internal label %r in the Markdown" % internal)
    check("(key ci+" in md, "Markdown author with its key id")
    finish()


def comparison_rows(hpath):
    """The HTML comparison table as (cells, classes) per row."""
    root = tree(hpath)
    sec = root.find_all("section", id="comparison")
    rows = []
    for tr in (sec[0].find_all("tr") if sec else []):
        tds = tr.find_all("td")
        if tds:
            rows.append(([td.text() for td in tds], [td.attrs.get("class", "") for td in tds]))
    return rows


def check_direction(mode, jpath, hpath):
    r = json.load(open(jpath, encoding="utf-8"))
    cmp = {c["metric"]: c for c in r["comparisons"] if c["ref"] == "m@2"}
    rows = {cells[3]: (cells, cls) for cells, cls in comparison_rows(hpath) if cells[0] == "m@2"}
    dpd = "demographic_parity_diff"
    want = {"declared": {dpd: "worse", "auc": "better"},
            "open": {dpd: "changed", "auc": "better"}}[mode]
    for metric, verdict in want.items():
        c = cmp.get(metric)
        check(c is not None and c["verdict"] == verdict, "%s %s: %s, want %s"
              % (mode, metric, c, verdict))
        cells, cls = rows.get(metric, ([""] * 8, [""] * 8))
        check(cells[7] == verdict, "%s HTML %s verdict %r, want %r" % (mode, metric, cells[7], verdict))
        check(cls[7] == "v-" + verdict, "%s HTML %s class %r, want v-%s" % (mode, metric, cls[7], verdict))
    # the regression of the issue, never better nor green
    c = cmp.get(dpd, {})
    check(c.get("verdict") != "better", "%s: a fairness regression shown as better" % mode)
    check(abs(c.get("delta", 0) - 0.0961) < 1e-9, "%s: delta %s" % (mode, c.get("delta")))
    cells, cls = rows.get(dpd, ([""] * 8, [""] * 8))
    check("v-better" not in cls and "v-pass" not in cls, "%s: a green class on the regression" % mode)
    if mode == "open":  # neutral: no colour rule for changed
        css = open(hpath, encoding="utf-8").read()
        css = css[css.find("<style>"):css.find("</style>")]
        import re
        for rule in re.findall(r"([^{}]*)\{([^}]*)\}", css):
            if ".v-changed" in rule[0]:
                check("color" not in rule[1], "changed has a colour: %s" % rule[1].strip())
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
     "csv": check_csv, "schema": check_schema, "summary": check_summary,
     "direction": check_direction, "findings": check_findings,
     "print": check_print, "pages": check_pages, "pdftext": check_pdftext,
     "counts": counts}[cmd](*args)
