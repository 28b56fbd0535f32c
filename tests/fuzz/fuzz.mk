# tests/fuzz/fuzz.mk — regression steps for the fuzzed parsers (make test)
# and the value codecs' benchmark (make bench):
#
#   fuzz-replay  every input of the minimised libFuzzer corpora through their
#                target's checks, built with the normal compiler (and
#                ASan/UBSan under make test-asan): tests/fuzz/corpus through
#                fuzz_value.c (the cty value codecs), tests/fuzz/corpus_doc
#                through fuzz_doc.c (the tenants_json document, the private
#                state's versions, the Workers KV cells' documents)
#   cty-diff     20,000 random values made by Debian's go-cty, plus the
#                corpus, compared with our codec (tests/fuzz/diff.sh); set
#                CTY_GOPATH to a GOPATH holding a newer go-cty to compare
#                with that instead (Debian's 1.12 predates refinements)
#
# Growing a corpus: tests/fuzz/run.sh [value|doc] SECONDS (clang,
# libFuzzer), then merge what it found into the checked-in one:
#   build/fuzz/fuzz_value -merge=1 tests/fuzz/corpus build/fuzz/corpus
#   build/fuzz/fuzz_doc -merge=1 tests/fuzz/corpus_doc build/fuzz/corpus_doc

FUZZ_REPLAY := $(BUILD)/tests/fuzz/fuzz_value_replay

$(FUZZ_REPLAY): tests/fuzz/fuzz_value.c tests/fuzz/fuzz_types.h $(LIBCR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_FUZZ_MAIN $(LDFLAGS) -o $@ tests/fuzz/fuzz_value.c \
	  $(LIBCR) $(PKG_LIBS)

FUZZ_DOC_REPLAY := $(BUILD)/tests/fuzz/fuzz_doc_replay

$(FUZZ_DOC_REPLAY): tests/fuzz/fuzz_doc.c $(LIBCR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_FUZZ_MAIN $(LDFLAGS) -o $@ tests/fuzz/fuzz_doc.c \
	  $(LIBCR) $(PKG_LIBS)

fuzz-replay: $(FUZZ_REPLAY) $(FUZZ_DOC_REPLAY)
	@echo "== fuzz corpus replay ($(words $(wildcard tests/fuzz/corpus/*)) inputs)"
	@$(FUZZ_REPLAY) tests/fuzz/corpus/*
	@echo "== fuzz doc corpus replay ($(words $(wildcard tests/fuzz/corpus_doc/*)) inputs)"
	@$(FUZZ_DOC_REPLAY) tests/fuzz/corpus_doc/*

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
