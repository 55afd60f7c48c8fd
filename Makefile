# mlledger — plain Makefile.  `make help` lists the targets.
#
# Variables worth overriding:  CC, PREFIX (install), BUILD (object folder),
# BENCH_N, BENCH_PEER_N, BENCH_HASH_MB (bench sizes; bench/run.sh lists them
# all), FUZZ_SECONDS, CRASH_RUNS.

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
PKGS    := libsodium sqlite3 jansson libcrypto libxml-2.0 libmicrohttpd libcurl libpq
TESTPKGS := cmocka
DEBS    := build-essential pkg-config libsodium-dev libsqlite3-dev libjansson-dev \
           libssl-dev libcmocka-dev libxml2-dev sqlite3 python3 python3-nacl \
           libmicrohttpd-dev libcurl4-openssl-dev curl libpq-dev postgresql-15 \
           golang-go golang-golang-x-mod-dev libxml2-utils python3-jsonschema python3-yaml \
           clang libclang-rt-14-dev valgrind mandoc \
           chromium poppler-utils cmark-gfm \
           git openssh-client minisign faketime procps

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wpointer-arith -Wcast-qual -Wvla -Wno-unused-parameter
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT     ?= -O2 -g
CFLAGS  ?=
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARN) \
             $(HARDEN) $(PKG_CFLAGS) -Isrc -I$(BUILD)/gen $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS    = $(PKG_LIBS) -lpthread -lm

SRC      := $(sort $(wildcard src/*.c))
LIB_SRC  := $(filter-out src/main.c,$(SRC))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BIN      := $(BUILD)/mlledger
LOADTEST := $(BUILD)/bench/loadtest

.PHONY: all deps deps-check test unit ha-test cli python-client interop tamper faults crash crash-short concurrency valgrind check fuzz fuzz-build bench loadtest serve-hostile demo install clean help \
        uninstall install-test deb package-test FORCE
all: deps-check $(BIN)

help:
	@echo "make            build $(BIN)"
	@echo "make deps       install missing Debian packages (root) or print the apt-get line"
	@echo "make test       unit tests (cmocka), CLI, interop and tamper tests"
	@echo "make layers     the headers' \"May call\" lines against includes and calls"
	@echo "make python-client  the Python client (clients/python) against the CLI and serve"
	@echo "make ha-test    PostgreSQL store of record: each tests/ha/*.sh starts its own"
	@echo "                primary + synchronous standby on 127.0.0.1 (as the postgres user);"
	@echo "                tests/ha/suites.sh runs the server suites on it (about 3 minutes)"
	@echo "make crash      the crash suite: CRASH_RUNS (default 200) writers killed at random"
	@echo "make faults     SQLite faults at every step of the writing and judging commands"
	@echo "make concurrency  CONC_WRITERS x CONC_RECORDS appends (default 8 x 500) with readers"
	@echo "make valgrind   unit tests and a CLI smoke subset under valgrind memcheck"
	@echo "make check      the test suite under ASan+UBSan in build-check/"
	@echo "make fuzz       build the libFuzzer targets in build-fuzz/ and run each for"
	@echo "                FUZZ_SECONDS (default $(FUZZ_SECONDS)) seconds (tests/fuzz/README.md)"
	@echo "make bench      benchmarks against the baselines and the alternatives (git,"
	@echo "                minisign, sha256sum, openssl); sizes: BENCH_N=... BENCH_BIG=0"
	@echo "                BENCH_PEER_N=... BENCH_HASH_MB=... BENCH_PEERS=0 (docs/PERFORMANCE.md)"
	@echo "make loadtest   mlledger serve under 16 connections of pre-signed envelopes"
	@echo "                against in-process appends (LOAD_N=20000; docs/PERFORMANCE.md)"
	@echo "make serve-hostile  hostile clients against serve beside a well-behaved one"
	@echo "make demo       build and run the demo story in demo/"
	@echo "make install    the binary, policies, man pages and bash completion under"
	@echo "                \$$DESTDIR\$$PREFIX (PREFIX=$(PREFIX)); make uninstall removes them"
	@echo "make deb        the Debian package (debian/) in $(BUILD)/deb"
	@echo "make package-test  builds, installs, runs, lints and removes the package (root)"
	@echo "make clean      remove build folders"

# deps: install what is missing when root, else print the exact command.
# DEPS_CMD replaces the step (tests/build/deps_order.sh fakes it).
DEPS_CMD ?= sh tools/deps.sh $(DEBS)
deps:
	@$(DEPS_CMD)

deps-check:
	@for p in $(PKGS) $(TESTPKGS); do \
	  pkg-config --exists $$p || { echo "mlledger: missing library $$p; run 'make deps' or:"; \
	    echo "  apt-get install -y $(DEBS)"; exit 1; }; done

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# policies/policy.xsd is embedded in the binary (policy.c validates with it).
$(BUILD)/gen/policy_xsd.h: policies/policy.xsd
	@mkdir -p $(@D)
	{ echo '/* generated from policies/policy.xsd by the Makefile */'; \
	  echo 'static const unsigned char policy_xsd[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/policy.o: $(BUILD)/gen/policy_xsd.h

# ledger/FORMAT.md is embedded too: export copies it into every bundle.
$(BUILD)/gen/format_md.h: ledger/FORMAT.md
	@mkdir -p $(@D)
	{ echo '/* generated from ledger/FORMAT.md by the Makefile */'; \
	  echo 'static const char format_md[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/bundle.o: $(BUILD)/gen/format_md.h

# policies/policy-test.xsd likewise (policy_test.c validates test files with it).
$(BUILD)/gen/policy_test_xsd.h: policies/policy-test.xsd
	@mkdir -p $(@D)
	{ echo '/* generated from policies/policy-test.xsd by the Makefile */'; \
	  echo 'static const unsigned char policy_test_xsd[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/policy_test.o: $(BUILD)/gen/policy_test_xsd.h

# reports/report.css is embedded too (report_html.c inlines it in reports).
$(BUILD)/gen/report_css.h: reports/report.css
	@mkdir -p $(@D)
	{ echo '/* generated from reports/report.css by the Makefile */'; \
	  echo 'static const unsigned char report_css[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/report_html.o: $(BUILD)/gen/report_css.h

# ledger/postgresql.sql is the one text of the PostgreSQL schema:
# ml_pg_create runs it (pgstore.c), NUL-terminated.
$(BUILD)/gen/postgresql_sql.h: ledger/postgresql.sql
	@mkdir -p $(@D)
	{ echo '/* generated from ledger/postgresql.sql by the Makefile */'; \
	  echo 'static const unsigned char pg_schema_sql[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/pgstore.o: $(BUILD)/gen/postgresql_sql.h

$(BUILD)/libml.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(BUILD)/libml.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h tests/unit/testledger.h $(BUILD)/libml.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libml.a \
	  $(LIBS) $(shell pkg-config --libs cmocka) $(WRAP_$*)

# test_jsonp and fuzz_jsonp share the differential check of jsonp.
$(BUILD)/tests/test_jsonp $(BUILD)/fuzz/fuzz_jsonp: tests/fuzz/jsonp_diff.h

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# Link-time fault injection: these tests wrap sqlite3_step.
WRAP_test_faults := -Wl,--wrap=sqlite3_step
# test_findings fails the digest's hash context (out of memory).
WRAP_test_findings := -Wl,--wrap=ml_sha256_new
# test_policy_oom counts (and fails) every allocation of libml.a's code;
# libxml2's it hooks with xmlGcMemSetup.
WRAP_test_policy_oom := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=free

# The same faults in the whole CLI process (tests/faults/run.sh): an
# LD_PRELOAD shim, built without sanitizers (it is not part of mlledger).
$(BUILD)/faults/fault_step.so: tests/faults/fault_step.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 -g -Wall -Wextra -o $@ $< -ldl

faults: deps-check $(BIN) $(BUILD)/faults/fault_step.so
	@MLLEDGER=$(abspath $(BIN)) FAULT_SHIM=$(abspath $(BUILD)/faults/fault_step.so) \
	  sh tests/faults/run.sh

unit: deps-check $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	  echo "== $$t"; MLLEDGER_TEST_DATA=tests/data $$t || fail=1; done; \
	  exit $$fail

# The PostgreSQL suites (tests/ha/): each script starts its own primary and
# synchronous standby (tests/ha/pglib.sh) and stops them on exit; a script
# prints a SKIP line when PostgreSQL cannot run here.  tests/ha/suites.sh
# runs serve.sh, remote.sh, witness_http.sh, test_serve.py and
# serve_tamper.sh with the store of record behind every server.
HA_SH := $(filter-out tests/ha/pglib.sh tests/ha/serve_tamper.sh,$(sort $(wildcard tests/ha/*.sh)))
ha-test: deps-check $(BIN) $(BUILD)/tests/test_pgstore
	@fail=0; for s in $(HA_SH); do echo "== $$s"; \
	  MLLEDGER=$(abspath $(BIN)) PGSTORE_TEST=$(abspath $(BUILD)/tests/test_pgstore) \
	  bash $$s || fail=1; done; exit $$fail

cli: deps-check $(BIN) $(LOADTEST) $(BUILD)/faults/fault_step.so
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/run.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/report.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/xmlinit.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/governance.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/packs.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/retries.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/storage.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/serve.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/clock.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/decisions.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/exhaustion.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/timescope.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/outputs.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/sarif.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/keyfiles.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/bundle.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/live.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/audit.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/witness.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/witness_http.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/backup.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/dualcontrol.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/identity.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/formats.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/reportheld.sh
	@MLLEDGER=$(abspath $(BIN)) FAULT_SHIM=$(abspath $(BUILD)/faults/fault_step.so) \
	  sh tests/cli/reportrecord.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/cli/remote.sh
	@MLLEDGER=$(abspath $(BIN)) LOADTEST=$(abspath $(LOADTEST)) sh tests/cli/serve_kill.sh
	@MLLEDGER=$(abspath $(BIN)) LOADTEST=$(abspath $(LOADTEST)) sh tests/cli/serve_hostile.sh

# The Python client (clients/python/): signs byte for byte as the CLI,
# verifies proofs (tampered ones refused), and records end to end through
# a real 'mlledger serve' on 127.0.0.1 (tests/python/, unittest).
python-client: deps-check $(BIN)
	@cd tests/python && MLLEDGER=$(abspath $(BIN)) /usr/bin/python3 -m unittest -v \
	  test_signing test_verify test_serve

interop: deps-check $(BIN)
	@MLLEDGER=$(abspath $(BIN)) sh tests/interop/run.sh
	@MLLEDGER=$(abspath $(BIN)) sh tests/interop/tiles.sh

# Tampering with the SQLite file, one case at a time: verify must exit 4
# naming the entry (tests/tamper/run.py).
tamper: deps-check $(BIN)
	@MLLEDGER=$(abspath $(BIN)) sh tests/tamper/run.sh

# The crash suite (tests/crash/run.sh): CRASH_RUNS writers killed with
# SIGKILL at random moments, each followed by verify and the all-or-nothing
# checks.  make test runs a short pass of 40.
CRASH_RUNS ?= 200
crash: deps-check $(BIN)
	@MLLEDGER=$(abspath $(BIN)) CRASH_RUNS=$(CRASH_RUNS) sh tests/crash/run.sh

crash-short: deps-check $(BIN)
	@MLLEDGER=$(abspath $(BIN)) CRASH_RUNS=40 sh tests/crash/run.sh

# Concurrency (tests/concurrency/run.sh): CONC_WRITERS x CONC_RECORDS
# appends (CONC_MODE record or import) with verify, gate and export readers
# in a loop.  The planted run (an extra entry, a gate that exits 3) must
# fail first.  make test runs the full 8 x 500 single records (about 35 s
# on 2 shared cores).
CONC_WRITERS ?= 8
CONC_RECORDS ?= 500
CONC_MODE ?= record
concurrency: deps-check $(BIN)
	@if MLLEDGER=$(abspath $(BIN)) CONC_PLANT=1 CONC_WRITERS=2 CONC_RECORDS=3 \
	  sh tests/concurrency/run.sh >/dev/null; then \
	  echo "not ok - concurrency: the planted failures were not caught"; exit 1; fi
	@MLLEDGER=$(abspath $(BIN)) CONC_WRITERS=$(CONC_WRITERS) CONC_RECORDS=$(CONC_RECORDS) \
	  CONC_MODE=$(CONC_MODE) sh tests/concurrency/run.sh

test: layers deps-order unit cli python-client interop tamper faults crash-short concurrency install-test
	@echo "make test: all unit, CLI, interop, tamper, fault, crash and concurrency tests passed ($(BUILD))"

# Valgrind memcheck over the unit tests and a short CLI subset
# (tests/valgrind/smoke.sh), in the normal build.  A definite or indirect
# leak or any memcheck error fails.  The planted leak and invalid read in
# tests/valgrind/leak.c must fail first (the flags are what they claim).
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full \
            --suppressions=$(CURDIR)/tests/valgrind/policy_oom.supp \
            --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
valgrind: deps-check $(UNIT_BIN) $(BIN)
	@command -v valgrind >/dev/null || { echo "mlledger: valgrind missing; run 'make deps'"; exit 1; }
	@mkdir -p $(BUILD)/valgrind && $(CC) -g -O0 -o $(BUILD)/valgrind/leak tests/valgrind/leak.c
	@if $(VALGRIND) $(BUILD)/valgrind/leak >/dev/null 2>&1; then \
	  echo "not ok - valgrind: a planted leak was not reported"; exit 1; fi
	@if $(VALGRIND) --leak-check=no $(BUILD)/valgrind/leak read >/dev/null 2>&1; then \
	  echo "not ok - valgrind: a planted invalid read was not reported"; exit 1; fi
	@fail=0; for t in $(UNIT_BIN); do \
	  echo "== valgrind $$t"; MLLEDGER_TEST_DATA=tests/data $(VALGRIND) $$t >$(BUILD)/valgrind/out 2>&1 || \
	  { fail=1; cat $(BUILD)/valgrind/out; }; tail -1 $(BUILD)/valgrind/out; done; \
	  MLLEDGER=$(abspath $(BIN)) VALGRIND="$(VALGRIND)" sh tests/valgrind/smoke.sh || fail=1; \
	  exit $$fail

check:
	$(MAKE) BUILD=build-check OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -Werror" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# Fuzzing (tests/fuzz/README.md): the library built with clang, ASan, UBSan
# and libFuzzer's coverage (fuzzer-no-link) in build-fuzz/, one binary per
# tests/fuzz/fuzz_*.c linked with -fsanitize=fuzzer.  tests/fuzz/run.sh runs
# each target; crashes land in tests/fuzz/crashes/ (git-ignored) and fail.
FUZZ_SECONDS ?= 60
FUZZ_CC     ?= clang
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/fuzz/%)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) build-fuzz/fuzz

fuzz-build: deps-check
	@command -v $(FUZZ_CC) >/dev/null || { echo "mlledger: $(FUZZ_CC) missing; run 'make deps'"; exit 1; }
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  EXTRA_LDFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer" $(FUZZ_BIN)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/libml.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libml.a $(LIBS)

# ---- layering and build-order checks (issue 16 items 1 and 5) ----
.PHONY: layers deps-order deps-build
# Every #include and every call between modules (read from the objects'
# symbols) must be on the caller's "May call" line, and neither graph may
# have a cycle (tests/layers.py says the rules); tests/layers.sh also
# plants violations in copies of src/ that must be caught.
layers: $(BUILD)/libml.a $(BUILD)/obj/main.o
	@sh tests/layers.sh $(BUILD)/obj

# Packages that appear during the same invocation (issue 16 item 1): a
# fake pkg-config that fails until a fake deps step ran; deps-build must
# build in one go, and building in the deps step's own make must not.
# Reuses $(BUILD)'s objects in a temporary folder.
deps-order: $(BUILD)/libml.a $(BUILD)/obj/main.o
	@MAKE='$(MAKE)' sh tests/build/deps_order.sh $(BUILD)
# ---- end of layering and build-order checks ----

bench: $(BIN)
	@sh bench/run.sh $(abspath $(BIN))

# The load client and envelope generator of `make loadtest` and the serve
# reliability suites (bench/loadtest.c), linked with the library.
$(LOADTEST): bench/loadtest.c $(BUILD)/libml.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libml.a $(LIBS)

# mlledger serve under load (bench/loadtest.sh, docs/PERFORMANCE.md):
# LOAD_N (default 20000) pre-signed envelopes over LOAD_CONNS (16) keep-alive
# connections, against appending the same envelopes in one process; then
# the same envelopes through two front-ends on a PostgreSQL primary +
# synchronous standby (bench/loadtest_pg.sh; LOAD_PG=0 skips it, and it
# skips itself with a notice without PostgreSQL 15).
LOAD_N ?= 20000
LOAD_CONNS ?= 16
loadtest: deps-check $(BIN) $(LOADTEST)
	@LOAD_N=$(LOAD_N) LOAD_CONNS=$(LOAD_CONNS) sh bench/loadtest.sh $(abspath $(BIN)) \
	  $(abspath $(LOADTEST))

# Hostile clients beside a well-behaved one (tests/cli/serve_hostile.sh,
# about 90 s; raises ulimit -n for 10,000 idle connections).  Also the
# last step of 'make cli', hence of 'make test'.
serve-hostile: deps-check $(BIN) $(LOADTEST)
	@MLLEDGER=$(abspath $(BIN)) LOADTEST=$(abspath $(LOADTEST)) sh tests/cli/serve_hostile.sh

# The build runs in a sub-make: this make read pkg-config's flags when it
# parsed the Makefile, before deps could install the libraries.
# tests/build/deps_order.sh (make deps-order) keeps it so.
deps-build: deps
	@$(MAKE) --no-print-directory $(BIN)

demo: deps-build
	@sh tools/demo.sh $(abspath $(BIN))

# ---- install, uninstall, the Debian package (issue 16 item 4) ------------
# make install PREFIX=/usr DESTDIR=/tmp/root: the binary, the shipped
# policies and their schema (found by id: --policy production), the man
# pages (man/, checked by mandoc -T lint) and bash completion.
# make uninstall removes exactly those files and the policies folder.
# POLICY_DIR is compiled into the binary (src/policypath.c): a new PREFIX
# rebuilds policypath.o through $(BUILD)/gen/policy_dir.h.
POLICY_DIR   = $(PREFIX)/share/mlledger/policies
INST_POLICIES := $(sort $(wildcard policies/*.xml)) policies/policy.xsd
INST_MAN1    := man/mlledger.1
INST_MAN5    := man/mlledger-policy.5 man/mlledger-format.5
INST_COMPL   := contrib/bash-completion/mlledger
INSTALLED    = $(PREFIX)/bin/mlledger \
               $(INST_POLICIES:policies/%=$(POLICY_DIR)/%) \
               $(INST_MAN1:man/%=$(PREFIX)/share/man/man1/%) \
               $(INST_MAN5:man/%=$(PREFIX)/share/man/man5/%) \
               $(PREFIX)/share/bash-completion/completions/mlledger

$(BUILD)/gen/policy_dir.h: FORCE
	@mkdir -p $(@D)
	@printf '/* generated by the Makefile from PREFIX */\n#define ML_POLICY_DIR "%s"\n' \
	  '$(POLICY_DIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/obj/policypath.o: $(BUILD)/gen/policy_dir.h

FORCE:

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(POLICY_DIR) \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mlledger
	install -m 0644 $(INST_POLICIES) $(DESTDIR)$(POLICY_DIR)
	install -m 0644 $(INST_MAN1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 $(INST_MAN5) $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0644 $(INST_COMPL) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlledger

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(POLICY_DIR) $(DESTDIR)$(PREFIX)/share/mlledger

# The install test (tests/install/run.sh, part of make test): a DESTDIR
# install with PREFIX=/usr in a copy of $(BUILD), the policies by id, the
# man pages under mandoc -T lint, the completion in bash, the uninstall.
install-test: deps-check $(BIN)
	@BUILD=$(BUILD) sh tests/install/run.sh

# make deb: the Debian package (debian/) built from a copy of the tracked
# files in $(BUILD)/deb; make package-test installs it, runs it, lints it
# and removes it (root; tests/install/package.sh).
deb:
	@sh tools/deb.sh $(BUILD)/deb

package-test: deb
	@timeout 900 sh tests/install/package.sh $(BUILD)/deb

clean:
	rm -rf build build-check build-bench build-fuzz demo
