#!/bin/sh
# tools/deb.sh OUT — the Debian package (debian/) for `make deb`.
#
# Builds from a copy of the tracked (and new, not ignored) files in
# OUT/src/mlledger-VERSION, so the tree stays clean and dpkg-buildpackage's
# outputs, which it writes to the parent folder, land in OUT.  Needs
# dpkg-dev and debhelper (and the Build-Depends of debian/control: the
# Makefile's libraries).  Bounded: the build gets 20 minutes.
set -eu
out=${1:?usage: tools/deb.sh OUT}
for c in dpkg-buildpackage dh dpkg-parsechangelog; do
	command -v "$c" >/dev/null || {
		echo "mlledger: make deb needs dpkg-dev and debhelper: apt-get install -y dpkg-dev debhelper fakeroot lintian" >&2
		exit 1
	}
done
ver=$(dpkg-parsechangelog -l debian/changelog -S Version)
src=$out/src/mlledger-$ver
rm -rf "$out"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar cf - --null -T - | tar xf - -C "$src"
else
	tar cf - --exclude='./build*' --exclude=./demo . | tar xf - -C "$src"
fi
(cd "$src" && timeout 1200 dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -20 "$out/build.log" >&2
	echo "mlledger: make deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/ 2>/dev/null || true
ls "$out"/mlledger_"$ver"_*.deb
