#!/bin/sh
# tests/install/package.sh OUT — the Debian package built by `make deb` in
# OUT: lintian without errors (warnings printed), dpkg -i, the installed
# command runs (--version, check --help, a policy by id from
# /usr/share/mlledger/policies, the man pages, the completion), dpkg -r
# removes every file.  `make package-test` runs it as root (.ci/run, after
# make test).  Refuses to touch a system where a package mlledger is
# already installed; removes what it installed on any exit.
# Prints "ok - NAME" / "not ok - NAME: DETAIL", then "N passed, N failed".
set -u
out=${1:?usage: tests/install/package.sh OUT}
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ $fail = 0 ]; exit $?; }

[ "$(id -u)" = 0 ] || { bad "package-test installs a package: run it as root"; finish; }
for c in dpkg lintian timeout; do
	command -v $c >/dev/null || { bad "$c is missing (apt-get install -y dpkg-dev lintian)"; finish; }
done
set -- "$out"/mlledger_*_*.deb
[ $# = 1 ] && [ -f "$1" ] || { bad "expected one mlledger_*.deb in $out (make deb)"; finish; }
deb=$1
if dpkg-query -W -f '${Status}' mlledger 2>/dev/null | grep -q installed; then
	bad "a package mlledger is already installed here: not touching it"
	finish
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mlledger-pkg.XXXXXX") || exit 1
cleanup() {
	dpkg-query -W -f '${Status}' mlledger 2>/dev/null | grep -q installed &&
		timeout 120 dpkg --purge mlledger >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

timeout 600 lintian --allow-root "$deb" >"$T/lintian" 2>&1
if grep -q '^E: ' "$T/lintian"; then
	bad "lintian errors: $(grep '^E: ' "$T/lintian" | tr '\n' ' ')"
else
	ok "lintian: no errors ($(grep -c '^W: ' "$T/lintian") warnings)"
fi
sed -n 's/^W: /  lintian warning: /p' "$T/lintian"

if timeout 300 dpkg -i "$deb" >"$T/dpkg" 2>&1; then
	ok "dpkg -i $(basename "$deb")"
else
	bad "dpkg -i: $(tail -3 "$T/dpkg" | tr '\n' ' ')"
	finish
fi
files=$(dpkg -L mlledger | sort)
/usr/bin/mlledger --version | grep -q '^mlledger ' && ok "mlledger --version runs" || bad "mlledger --version"
/usr/bin/mlledger check --help | grep -q '^usage: mlledger check' && ok "mlledger check --help runs" ||
	bad "mlledger check --help"
out2=$(cd "$T" && env -u MLLEDGER_POLICY_PATH /usr/bin/mlledger policy lint production 2>&1)
[ "$out2" = "ok: /usr/share/mlledger/policies/production.xml" ] &&
	ok "policy lint production finds /usr/share/mlledger/policies/production.xml (compiled in)" ||
	bad "policy by id from the package: $out2"
for f in /usr/share/man/man1/mlledger.1.gz /usr/share/man/man5/mlledger-policy.5.gz \
	/usr/share/man/man5/mlledger-format.5.gz /usr/share/bash-completion/completions/mlledger; do
	[ -f "$f" ] || bad "missing $f"
done
zcat /usr/share/man/man1/mlledger.1.gz | grep -q '^\.Dt MLLEDGER 1' && ok "the man pages and completion are installed" ||
	bad "mlledger.1.gz is not the page"
if timeout 300 dpkg -r mlledger >"$T/dpkg" 2>&1; then
	left=
	for f in $files; do [ -f "$f" ] && left="$left $f"; done
	[ -z "$left" ] && [ ! -e /usr/share/mlledger ] && [ ! -e /usr/bin/mlledger ] &&
		ok "dpkg -r removes every file it installed" || bad "dpkg -r left:$left"
else
	bad "dpkg -r: $(tail -3 "$T/dpkg" | tr '\n' ' ')"
fi
finish
