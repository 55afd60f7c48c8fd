#!/usr/bin/env python3
"""Prints of every report format, for tests/cli/report.sh.

    report_print.py page md REPORT.md OUT.html [CMARK]   Markdown as GitHub renders
                                        it (cmark-gfm -e table; raw HTML omitted)
    report_print.py page json REPORT.json OUT.html       the text in a <pre> page
    report_print.py page csv DIR|FILE.csv OUT.html       each table in a <pre>,
                                        controls.csv first (see "csv" below)
    report_print.py check FMT MAX SOURCE FILE.pdf FILE.txt
                                        the print of SOURCE (the report in format
                                        FMT: html, md, json or csv) has 1..MAX
                                        pages and its summary, as below

What "its summary" means per format (reports/README.md, "How the formats
are checked"):
  html  the "Summary" heading and the summary's result line (p.result of
        SOURCE) on page 1
  md    the "Summary" heading on page 1, before "1. Scope", with the result
        line of SOURCE ("**[Result](#7-findings): ...**") under it; its table
        rendered as a table: no "| a | b |" row left in the text, and a cell
        of the summary table ("Control framework") whole on a line of its own
  json  the "summary" member, with SOURCE's summary.result, on page 1
  csv   CSV has no summary: each file is one flat table for a spreadsheet and
        the summary is prose drawn from several of them.  The nearest is
        controls.csv (per control: findings, pass, fail, waived,
        indeterminate), so the page prints it first: its name and header row
        on page 1, every one of its rows in the text, and every other table
        of SOURCE named with its header row.

Generated pages reference nothing outside themselves (no src, no stylesheet
link, no url(), no @import), checked when the page is written, so a print
fetches nothing; report.sh also runs Chromium with every host name mapped
to nothing.  Prints one line per failed check and exits 1 when any failed.
"""
import html
import html.parser
import json
import os
import re
import subprocess
import sys

FAILS = []
# Monospace text wraps inside the page (a 60,000-character value would
# otherwise run off its right edge and be lost from the print).
STYLE = """@page { size: A4; margin: 14mm 12mm }
body { font: 9pt/1.3 sans-serif }
pre { font: 7pt/1.25 monospace; white-space: pre-wrap; overflow-wrap: anywhere }
table { border-collapse: collapse; margin: 4pt 0 }
th, td { border: 0.5pt solid #888; padding: 1pt 3pt; text-align: left; vertical-align: top;
         overflow-wrap: anywhere }
h1 { font-size: 14pt } h2 { font-size: 12pt } h3 { font-size: 10pt }
"""


def check(cond, what):
    if not cond:
        FAILS.append(what)


def finish():
    for f in FAILS:
        print("FAIL: " + f)
    sys.exit(1 if FAILS else 0)


def wrap(title, body):
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<title>%s</title><style>%s</style></head><body>\n%s\n</body></html>\n'
            % (html.escape(title), STYLE, body))


def csv_files(src):
    """The tables of a CSV report (a folder, or one --table file), the
    nearest thing to a summary (controls.csv) first, then by name."""
    if os.path.isdir(src):
        names = sorted(n for n in os.listdir(src) if n.endswith(".csv"))
        paths = [os.path.join(src, n) for n in names]
    else:
        paths = [src]
    return sorted(paths, key=lambda p: (os.path.basename(p) != "controls.csv", p))


class Refs(html.parser.HTMLParser):
    """References a browser would fetch: a src, srcset, data or poster
    attribute, a <link>, an <object>/<embed>/<iframe>, url(...) or @import
    in CSS.  Text (escaped markup in a value) is not a reference."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.css = [], False

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "srcset", "data", "poster") or (
                    k == "style" and re.search(r"(?i)url\s*\(|@import", v or "")):
                self.found.append("<%s %s=%r>" % (tag, k, v))
        if tag in ("link", "object", "embed", "iframe"):
            self.found.append("<%s>" % tag)
        self.css = tag == "style"

    def handle_endtag(self, tag):
        self.css = False

    def handle_data(self, data):
        if self.css and re.search(r"(?i)url\s*\(|@import", data):
            self.found.append("url() or @import in <style>")


def external_refs(doc):
    r = Refs()
    r.feed(doc)
    r.close()
    return r.found


def page(fmt, src, out, cmark="cmark-gfm"):
    title = os.path.basename(src)
    if fmt == "md":
        # no --unsafe: raw HTML in the Markdown is omitted, as on GitHub
        body = subprocess.run([cmark, "-e", "table", src], check=True,
                              stdout=subprocess.PIPE).stdout.decode("utf-8")
    elif fmt == "json":
        body = "<pre>%s</pre>" % html.escape(open(src, encoding="utf-8").read())
    elif fmt == "csv":
        body = "\n".join("<h2>%s</h2>\n<pre>%s</pre>" % (
            html.escape(os.path.basename(p)),
            html.escape(open(p, encoding="utf-8", newline="").read().replace("\r\n", "\n")))
            for p in csv_files(src))
    else:
        sys.exit("report_print.py: unknown format %r" % fmt)
    doc = wrap(title, body)
    refs = external_refs(doc)
    check(not refs, "%s: the page for %s references outside itself: %s" % (out, src, refs[:3]))
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)
    finish()


def pages_of(pdf):
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", open(pdf, "rb").read()))


def squash(s):
    return re.sub(r"\s+", "", s)


def md_result(src):
    md = open(src, encoding="utf-8").read()
    m = re.search(r"^\*\*\[Result\]\(#[^)]*\): (.*)\*\*$", md, re.M)
    check(m, "%s: no result line ('**[Result](#...): ...**') in the Markdown" % src)
    return re.sub(r"\\(.)", r"\1", m.group(1)) if m else None


def md_first_cell(src):
    """The first cell of the summary's first row (a link's text), or None
    when the summary has no table (nothing failed in a framework)."""
    md = open(src, encoding="utf-8").read()
    m = re.search(r"^\| Control framework \|.*\n\|[-|]*\|\n\| ([^|]*) \|", md, re.M)
    return re.sub(r"^\[(.*)\]\(#[^)]*\)$", r"\1", m.group(1)).replace("\\", "") if m else None


def html_result(src):
    raw = open(src, encoding="utf-8").read()
    m = re.search(r'<section[^>]*id="summary".*?<p class="(?:[^"]* )?result(?: [^"]*)?">(.*?)</p>', raw, re.S)
    check(m, "%s: no summary section with a result line" % src)
    return html.unescape(re.sub(r"<[^>]*>", "", m.group(1))) if m else None


def check_print(fmt, most, src, pdf, txt):
    n = pages_of(pdf)
    print("%d pages" % n)
    check(0 < n <= int(most), "%s: %d A4 pages, want 1 to %s" % (pdf, n, most))
    text = open(txt, encoding="utf-8").read()
    first = text.split("\f")[0]
    lines = [l.strip() for l in text.splitlines()]
    if fmt == "html":
        check("Summary" in [l.strip() for l in first.splitlines()],
              "no 'Summary' heading on page 1")
        res = html_result(src)
        if res:
            check(res in squash_lines(first), "the result line %r is not on page 1" % res)
    elif fmt == "md":
        res = md_result(src)
        check("Summary" in [l.strip() for l in first.splitlines()],
              "no 'Summary' heading on page 1")
        s, sc = text.find("\nSummary\n"), text.find("1. Scope")
        check(0 <= s and (sc < 0 or s < sc), "the summary does not come before '1. Scope'")
        if res:
            check(("Result: " + res) in squash_lines(first),
                  "the result line 'Result: %s' is not on page 1" % res)
        rows = [l for l in lines if re.match(r"^\|.*\|.*\|$", l)]
        check(not rows, "Markdown table rows printed as text (tables not rendered): %r" % rows[:2])
        # a rendered table: the header row's cells on one line, and each cell
        # of the first row its own whole line (pdftotext's reading order)
        if "\n| Control framework |" in open(src, encoding="utf-8").read():
            check(any("Control framework" in l and "Waived" in l for l in lines),
                  "the summary table's header cells are not on one line")
        cell = md_first_cell(src)
        check(cell is None or cell in lines,
              "the summary table's first cell %r is not whole on a line" % cell)
    elif fmt == "json":
        try:
            res = json.load(open(src, encoding="utf-8"))["summary"]["result"]
        except (KeyError, TypeError, ValueError):
            res = None
            check(False, "%s: no summary.result member" % src)
        check('"summary": {' in first, "the summary member is not on page 1")
        if res is not None:
            check(squash('"result": ' + json.dumps(res, ensure_ascii=False)) in squash(first),
                  "the summary's result %r is not on page 1" % res)
    elif fmt == "csv":
        files = csv_files(src)
        names = [os.path.basename(p) for p in files]
        check(names and names[0] == "controls.csv",
              "%s: no controls.csv, the nearest CSV has to a summary" % src)
        flat = squash(text)
        at = -1
        for p in files:
            rows = open(p, encoding="utf-8", newline="").read().split("\r\n")
            name = os.path.basename(p)
            head = squash(name + rows[0])
            where = flat.find(head)
            check(where > at, "table %s and its header row not printed (in order)" % name)
            at = max(at, where)
            if name == "controls.csv":
                check(squash(name) in squash(first) and squash(rows[0]) in squash(first),
                      "controls.csv and its header are not on page 1")
                for r in rows[1:]:
                    check(squash(r) in flat, "controls.csv row %r not printed" % r[:60])
    else:
        sys.exit("report_print.py: unknown format %r" % fmt)
    finish()


def squash_lines(s):
    """Page text with line breaks (wrapping) made single spaces."""
    return re.sub(r"[ \t]*\n[ \t]*", " ", s)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"page": page, "check": check_print}[cmd](*args)
