# gen/gen.mk — cellgen, its tests, the check that checked-in output is
# current, and the generation benchmark.

GEN_SRC  := $(filter-out gen/main.c,$(wildcard gen/*.c))
GEN_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(GEN_SRC))
GEN_LIB  := $(BUILD)/libcellgen.a
CELLGEN  := $(BUILD)/cellgen
GEN_LIBS  = $(shell pkg-config --libs yaml-0.1 libcrypto 2>/dev/null)
# The tests also read JSON (the spec schema).
GEN_TEST_LIBS = $(shell pkg-config --libs jansson 2>/dev/null)

$(GEN_LIB): $(GEN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CELLGEN): $(BUILD)/gen/main.o $(GEN_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(GEN_LIBS)

BINS += $(CELLGEN)

# cmocka tests for the generator live in gen/tests/ and link libcellgen.
GEN_TEST_SRC  := $(wildcard gen/tests/test_*.c)
GEN_TEST_BINS := $(patsubst gen/tests/%.c,$(BUILD)/gen/tests/%,$(GEN_TEST_SRC))
UNIT_TESTS    += $(GEN_TEST_BINS)

$(BUILD)/gen/tests/%: $(BUILD)/gen/tests/%.o $(GEN_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(GEN_LIBS) $(GEN_TEST_LIBS) $(CMOCKA_LIBS)

# The checked-in example: the spec, the root configuration it generates and
# the modules. CI fails when someone edits one without regenerating.
GEN_SPEC := examples/cellspec.yaml
check-generated: $(CELLGEN)
	$(CELLGEN) --check -o examples/multicloud --modules-dir modules $(GEN_SPEC)

# Golden files: a small spec with its complete expected output, then the
# command line as CI uses it (gen/tests/cli.sh).
GOLDEN := tests/gen/golden
check-golden: $(CELLGEN)
	$(CELLGEN) --check -o $(GOLDEN)/expected/root --modules-dir $(GOLDEN)/expected/modules $(GOLDEN)/spec.yaml
	@bash gen/tests/cli.sh $(CELLGEN) $(GOLDEN)
	@echo "== hcleval: the modules' computed expressions, evaluated with HCL/go-cty"
	@GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0 GOPATH=/usr/share/gocode \
	  GOCACHE=$(CURDIR)/$(BUILD)/gocache $(GO) run ./gen/tests/hcleval modules

TEST_STEPS += check-generated check-golden
.PHONY: check-golden regen

# `make regen` rewrites the checked-in output after a spec or generator change.
regen: $(CELLGEN)
	$(CELLGEN) -o examples/multicloud --modules-dir modules $(GEN_SPEC)
	$(CELLGEN) -o $(GOLDEN)/expected/root --modules-dir $(GOLDEN)/expected/modules $(GOLDEN)/spec.yaml

# Benchmark: 1,000 cells and 100,000 tenants.
BENCH_GEN_DIR := $(BUILD)/bench/gen
bench-gen: $(CELLGEN)
	@mkdir -p $(BENCH_GEN_DIR)
	@bash gen/tests/mkbench.sh 1000 100000 > $(BENCH_GEN_DIR)/spec.yaml
	@rm -rf $(BENCH_GEN_DIR)/out $(BENCH_GEN_DIR)/modules
	$(CELLGEN) --stats -o $(BENCH_GEN_DIR)/out --modules-dir $(BENCH_GEN_DIR)/modules $(BENCH_GEN_DIR)/spec.yaml 2>&1 | tee $(BENCH_GEN_DIR)/result.txt
	$(CELLGEN) --stats --check -o $(BENCH_GEN_DIR)/out --modules-dir $(BENCH_GEN_DIR)/modules $(BENCH_GEN_DIR)/spec.yaml 2>&1 | tee -a $(BENCH_GEN_DIR)/result.txt
BENCH_STEPS += bench-gen
.PHONY: bench-gen
