# tests/fuzz/fuzz.mk — regression steps for the value codecs (make test)
# and their benchmark (make bench):
#
#   fuzz-replay  every input of tests/fuzz/corpus (the minimised libFuzzer
#                corpus) through fuzz_value.c's checks, built with the normal
#                compiler (and ASan/UBSan under make test-asan)
#   cty-diff     20,000 random values made by Debian's go-cty, plus the
#                corpus, compared with our codec (tests/fuzz/diff.sh); set
#                CTY_GOPATH to a GOPATH holding a newer go-cty to compare
#                with that instead (Debian's 1.12 predates refinements)
#
# Growing the corpus: tests/fuzz/run.sh (clang, libFuzzer), then
#   build/fuzz/fuzz_value -merge=1 tests/fuzz/corpus build/fuzz/corpus

FUZZ_REPLAY := $(BUILD)/tests/fuzz/fuzz_value_replay

$(FUZZ_REPLAY): tests/fuzz/fuzz_value.c tests/fuzz/fuzz_types.h $(LIBCR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_FUZZ_MAIN $(LDFLAGS) -o $@ tests/fuzz/fuzz_value.c \
	  $(LIBCR) $(PKG_LIBS)

fuzz-replay: $(FUZZ_REPLAY)
	@echo "== fuzz corpus replay ($(words $(wildcard tests/fuzz/corpus/*)) inputs)"
	@$(FUZZ_REPLAY) tests/fuzz/corpus/*

cty-diff:
	@mkdir -p $(BUILD)/fuzz
	@FUZZ_OUT=$(BUILD)/fuzz tests/fuzz/diff.sh tests/fuzz/corpus >$(BUILD)/cty-diff.txt 2>&1 \
	  || { cat $(BUILD)/cty-diff.txt; exit 1; }
	@grep -E '^(==|total)' $(BUILD)/cty-diff.txt

TEST_STEPS += fuzz-replay cty-diff
.PHONY: fuzz-replay cty-diff

# make bench: codec throughput (tests/fuzz/bench_value.c) into
# $(BUILD)/bench/value.txt.
BENCH_VALUE := $(BUILD)/tests/fuzz/bench_value

$(BENCH_VALUE): tests/fuzz/bench_value.c $(LIBCR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/bench_value.c $(LIBCR) $(PKG_LIBS)

bench-value: $(BENCH_VALUE)
	@mkdir -p $(BUILD)/bench
	@$(BENCH_VALUE) | tee $(BUILD)/bench/value.txt

BENCH_STEPS += bench-value
.PHONY: bench-value
