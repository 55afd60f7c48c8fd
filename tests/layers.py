#!/usr/bin/python3
"""layers -- checks that the code keeps the layering its headers declare.

Every src/X.h says what module X is for and, in a sentence starting
"May call" (any case; it may wrap over several comment lines and ends at
the first full stop), which other modules X may call.  This script fails,
with one line per violation, when a module includes or calls a module its
header does not allow, or when the dependencies form a cycle.

Rules (make layers runs this; exit 0 ok, 1 violations, 2 bad usage):

  Modules.  A module is a header src/X.h with a "May call" sentence.  Names
  in that sentence that are not modules (libc, jansson, libxml2, pthreads,
  libsodium, ...) are ignored: external libraries are not checked.  Text in
  parentheses is a remark ("report (ml_report_get)") and is ignored.  "every
  other module" allows all modules.

  Files.  src/X.c and src/X.h belong to X.  Any other src/Y.c, and any
  src/Y.h without a "May call" sentence, belongs to the module whose name is
  the longest prefix P of Y with Y = P_... (report_policy.c -> report,
  policy_eval.c -> policy, cli_key.c -> cli, note_trust.h and note_trust.c
  -> note: a module split into one file and header per format keeps one
  "May call" line, in P.h).  A file that maps to no module is an error.
  src/main.c belongs to cli (it only calls cli_main).

  Private headers.  src/P_int.h is the private header of module P (shared by
  P's files): it belongs to P, needs no "May call" line, and only P's files
  may include it.

  Generated headers.  An include of a header that is not in src/ (the
  build/gen/*.h data tables) is not a module and is not checked.

  Includes.  Every #include "Z.h" in a file of module X needs X == Z or Z in
  X's "May call" list.  A header's includes count for its module.

  Calls (with --obj DIR, the build's object folder).  For each object file,
  every undefined symbol that another object of a different module defines
  is a call from the first module to the second, checked like an include
  (this catches a call made through a declaration copied by hand).  Objects
  with no source file are skipped.

  Cycles.  Neither the graph of actual dependencies (includes and calls,
  between different modules) nor the graph the "May call" lines declare
  (cli's "every other module" aside) may have a cycle; the first cycle found
  in each is printed.

Options: --src DIR (default src), --obj DIR (optional), --quiet.
"""
import os
import re
import subprocess
import sys

MAY_CALL = re.compile(r'may\s+call\s+(.*?)(?:\.(?:\s|$)|\*/)', re.I | re.S)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def comment_text(text):
    """The header's comments joined as plain text (leading '*' removed)."""
    out = []
    for c in re.findall(r'/\*(.*?)\*/', text, re.S):
        for line in c.splitlines():
            out.append(re.sub(r'^\s*\*?\s?', '', line))
    return ' '.join(out)


def may_call(path):
    """The set of names in the header's first 'May call' sentence, or None."""
    with open(path, encoding='utf-8') as f:
        m = MAY_CALL.search(comment_text(f.read()))
    if not m:
        return None
    words = re.sub(r'\([^)]*\)', ' ', m.group(1))
    if re.search(r'\bevery\s+other\s+module\b', words, re.I):
        return {'*'}
    return set(w for w in re.findall(r'[a-z][a-z0-9_]*', words.lower())
               if w not in ('and', 'only', 'or'))


def module_of(name, modules):
    """The module a file stem (e.g. 'report_policy') belongs to, or None."""
    if name == 'main':
        return 'cli'
    if name.endswith('_int') and name[:-4] in modules:
        return name[:-4]
    if name in modules:
        return name
    best = None
    for m in modules:
        if name.startswith(m + '_') and (best is None or len(m) > len(best)):
            best = m
    return best


def defined_and_undefined(obj):
    """(defined, undefined) global symbol sets of one object file."""
    out = subprocess.run(['nm', '-g', obj], capture_output=True, text=True, check=True).stdout
    d, u = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'U':
            u.add(parts[1])
        elif len(parts) == 3 and parts[1] in 'TDBRC':
            d.add(parts[2])
    return d, u


def find_cycle(graph):
    """One cycle of the graph as a list of nodes (first == last), or None."""
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def main(argv):
    src, obj, quiet = 'src', None, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--src' and args:
            src = args.pop(0)
        elif a == '--obj' and args:
            obj = args.pop(0)
        elif a == '--quiet':
            quiet = True
        else:
            print('layers: usage: layers.py [--src DIR] [--obj DIR] [--quiet]', file=sys.stderr)
            return 2
    if not os.path.isdir(src):
        print(f'layers: {src}: not a folder', file=sys.stderr)
        return 2

    files = sorted(f for f in os.listdir(src) if f.endswith(('.c', '.h')))
    allowed = {}
    for f in files:
        stem = f[:-2]
        if f.endswith('.h') and not stem.endswith('_int'):
            mc = may_call(os.path.join(src, f))
            if mc is not None:
                allowed[stem] = mc
    modules = set(allowed)
    errors = []
    edges = {}

    def allow(mod, dep):
        a = allowed[mod]
        return dep == mod or '*' in a or dep in a

    def header_word(mod):
        return f'{src}/{mod}.h'

    for f in files:
        stem = f[:-2]
        mod = module_of(stem, modules)
        if mod is None:
            errors.append(f'{src}/{f}: belongs to no module (no "May call" line in it, '
                          f'nor in a {src}/X.h for a prefix X of its name)')
            continue
        with open(os.path.join(src, f), encoding='utf-8') as fh:
            incs = INCLUDE.findall(fh.read())
        for inc in incs:
            istem = os.path.basename(inc)[:-2] if inc.endswith('.h') else None
            if istem is None or not os.path.exists(os.path.join(src, inc)):
                continue  # generated data header (build/gen) or not ours
            if istem.endswith('_int'):
                owner = module_of(istem, modules)
                if owner != mod:
                    errors.append(f'{src}/{f} includes {inc}, private to {owner}')
                continue
            dep = module_of(istem, modules)
            if dep is None or dep == mod:
                continue
            edges.setdefault(mod, set()).add(dep)
            if not allow(mod, dep):
                errors.append(f'{src}/{f} includes {inc}, but {header_word(mod)} may not call {dep}')

    if obj:
        if not os.path.isdir(obj):
            print(f'layers: {obj}: not a folder', file=sys.stderr)
            return 2
        owner_of = {}
        undef = {}
        for o in sorted(os.listdir(obj)):
            stem = o[:-2]
            if not o.endswith('.o') or not os.path.exists(os.path.join(src, stem + '.c')):
                continue
            mod = module_of(stem, modules)
            if mod is None:
                continue
            d, u = defined_and_undefined(os.path.join(obj, o))
            for s in d:
                owner_of[s] = (mod, stem)
            undef[stem] = (mod, u)
        for stem, (mod, u) in sorted(undef.items()):
            bad = {}
            for s in sorted(u):
                if s not in owner_of:
                    continue
                dep, dstem = owner_of[s]
                if dep == mod:
                    continue
                edges.setdefault(mod, set()).add(dep)
                if not allow(mod, dep):
                    bad.setdefault(dep, []).append(s)
            for dep, syms in sorted(bad.items()):
                more = f' and {len(syms) - 1} more' if len(syms) > 1 else ''
                errors.append(f'{src}/{stem}.c calls {syms[0]}{more} ({dep}), '
                              f'but {header_word(mod)} may not call {dep}')

    cycle = find_cycle(edges)
    if cycle:
        errors.append('layers: dependency cycle: ' + ' -> '.join(cycle))
    declared = {m: set(d for d in a if d in modules and d != m)
                for m, a in allowed.items() if '*' not in a}
    cycle = find_cycle(declared)
    if cycle:
        errors.append('layers: the "May call" lines declare a cycle: ' + ' -> '.join(cycle))

    for e in errors:
        print(e)
    if errors:
        return 1
    if not quiet:
        n = sum(len(v) for v in edges.values())
        print(f'layers: {len(modules)} modules, {n} dependencies, all declared, no cycle'
              + ('' if obj else ' (includes only)'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
