# cellrouter — top-level Makefile.
#
# One Makefile, one fragment per area (provider/provider.mk, gen/gen.mk,
# tests/tests.mk): each fragment appends its programs to BINS, its cmocka
# test binaries to UNIT_TESTS and its other test steps to TEST_STEPS, so an
# area can grow without touching the others.
#
#   make              build everything into build/
#   make test         build and run every test (what CI runs)
#   make test-asan    the same under AddressSanitizer + UBSan (build-asan/)
#   make demo         the whole story on examples/, step by step
#   make bench        benchmarks; figures go to build/bench/
#   make install      provider into a filesystem mirror (see README)

BUILD   ?= build
SAN     ?=
CC      ?= cc
GO      ?= go
PKGS    := grpc libprotobuf-c msgpack yaml-0.1 jansson yajl openssl sqlite3 libcurl
# The release version is written in one place, the VERSION file; the
# programs report it (release/release.mk passes it to them).
PROVIDER_VERSION ?= $(strip $(file <VERSION))

CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O2 \
                 -fno-strict-aliasing -MMD -MP
ifeq ($(SAN),1)
CFLAGS_COMMON += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=all
LDFLAGS_SAN   := -fsanitize=address,undefined
endif

# pkg-config is only asked once the dependencies are there (see deps below).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS  = $(CFLAGS_COMMON) $(PKG_CFLAGS) -Iprovider -I$(BUILD)/proto -Igen $(EXTRA_CFLAGS)
LDFLAGS = $(LDFLAGS_SAN) $(EXTRA_LDFLAGS)

BINS       :=
UNIT_TESTS :=
TEST_STEPS :=
BENCH_STEPS :=

# Objects made on the way to a test program are kept, not deleted as
# intermediates: rebuilds stay incremental and the test log ends with the
# tests' own summary lines.
.SECONDARY:

.PHONY: all deps test test-unit test-asan demo bench install clean check-generated
all: deps-ok

# Dependencies: scripts/deps.sh is idempotent and silent when nothing is
# missing; the stamp makes it run again only when the script changes.
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)
deps-ok: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory BUILD=$(BUILD) SAN=$(SAN) build-all
.PHONY: deps-ok build-all

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<
# The few C++ files (provider/provider.mk): the C flags but the language's,
# and no exceptions, so that the C programs need no C++ runtime.
$(BUILD)/%.o: %.cc | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -fno-exceptions $(filter-out -std=c17,$(CFLAGS)) -c -o $@ $<

include provider/provider.mk
include gen/gen.mk
include tests/tests.mk
# bench/*.mk: benchmark fragments (each appends to BENCH_STEPS).
include $(wildcard bench/*.mk)
# Static executables, release archives, mirrors, registry docs.
include release/release.mk

build-all: $(BINS)

test-unit: $(UNIT_TESTS)
	@set -e; fail=0; for t in $(UNIT_TESTS); do \
	  echo "== $$t"; $$t || fail=1; done; exit $$fail

test: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD) SAN=$(SAN) build-all
	@$(MAKE) --no-print-directory BUILD=$(BUILD) SAN=$(SAN) test-unit $(TEST_STEPS)

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test

bench: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD) build-all
	@$(MAKE) --no-print-directory BUILD=$(BUILD) $(BENCH_STEPS)

clean:
	rm -rf build build-asan

# (Not from the release's third-party trees: release/release.mk.)
-include $(shell find $(BUILD) \( -name cache -o -name 'sysroot-*' \) -prune -o -type f -name '*.d' -print 2>/dev/null)

# The README's main command: everything, end to end, step by step.
demo: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD) build-all $(BUILD)/tfcore
	@BUILD=$(BUILD) bash scripts/demo.sh
