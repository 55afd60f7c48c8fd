#!/bin/sh
# make deps-order: the libraries appear during the same make invocation
# (issue 16 item 1, a fresh Debian machine where `make demo` installs them).
#
# A fake pkg-config first on PATH fails (exit 1, as for a missing package)
# until a marker file exists; DEPS_CMD turns `make deps` into creating that
# marker.  The build goes to a temporary BUILD folder seeded with the
# objects of BUILDDIR (so only cli_policy.o, which needs libxml2's -I flag,
# is compiled again, then the archive and the link).  Checks:
#   1. without the marker, `make all` stops at deps-check: the fake really
#      hides the packages;
#   2. deps and the build in one make (what `demo: deps $(BIN)` did) fail:
#      that make read pkg-config before the deps step ran;
#   3. `make deps-build` (what `make demo` runs) builds in one invocation,
#      and the binary runs.
# Usage: MAKE=make sh tests/build/deps_order.sh BUILDDIR  (KEEP=1 keeps the
# temporary folder and its logs 1.log 2.log 3.log)
set -u
SRCBUILD=${1:?usage: deps_order.sh BUILDDIR}
MAKE=${MAKE:-make}
REAL=$(command -v pkg-config) || { echo "not ok - deps-order: no pkg-config"; exit 1; }
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT INT TERM
fail=0
ok() { echo "ok - deps-order: $1"; }
not_ok() { echo "not ok - deps-order: $1"; fail=1; }

MARK=$T/deps-ran
mkdir -p "$T/bin" "$T/build"
cat >"$T/bin/pkg-config" <<EOF
#!/bin/sh
[ -e "$MARK" ] || exit 1
exec "$REAL" "\$@"
EOF
chmod +x "$T/bin/pkg-config"

# Seed the temporary build with the objects (timestamps kept, so make
# reuses them), minus the one that needs a library's include path.
seed() {
	rm -rf "$T/build" && mkdir -p "$T/build" &&
	cp -Rp "$SRCBUILD/obj" "$SRCBUILD/gen" "$T/build/" &&
	rm -f "$T/build/obj/cli_policy.o" "$MARK"
}
run() { # run LOG ARGS...: make with the fake first on PATH, bounded to 300 s
	log=$1; shift
	PATH="$T/bin:$PATH" timeout 300 $MAKE --no-print-directory BUILD="$T/build" \
		DEPS_CMD="touch $MARK" "$@" >"$log" 2>&1
}

# 1. The fake hides the packages.
seed || { not_ok "cannot copy $SRCBUILD/obj"; exit 1; }
if run "$T/1.log" all; then not_ok "make all built with pkg-config failing"
elif grep -q "missing library" "$T/1.log"; then ok "a failing pkg-config stops make all at deps-check"
else not_ok "make all failed, but not at deps-check: $(tail -2 "$T/1.log")"; fi

# 2. The old demo: deps, then the build in the same make.
seed
if run "$T/2.log" deps "$T/build/obj/cli_policy.o"; then
	not_ok "deps and the build in one make succeeded: the fake does not simulate a missing package"
elif [ -e "$MARK" ] && grep -q "libxml/tree.h" "$T/2.log"; then
	ok "the build in deps' own make misses libxml2's include path (the old bug)"
else not_ok "deps and the build in one make failed otherwise: $(tail -2 "$T/2.log")"; fi

# 3. What make demo runs now.
seed
if run "$T/3.log" deps-build && [ -e "$MARK" ] &&
	"$T/build/mlledger" --version >/dev/null 2>&1; then
	ok "make deps-build installs, then builds and links in one invocation"
else not_ok "make deps-build failed: $(tail -3 "$T/3.log")"; fi

exit $fail
