# gen/gen.mk — cellgen with its templates compiled in, the check that the
# checked-in output is current, and the generation benchmark. The
# generator's tests are in tests/gen/ (tests/gen/gen-tests.mk).

GEN_SRC  := $(filter-out gen/main.c,$(wildcard gen/*.c))
GEN_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(GEN_SRC)) $(BUILD)/gen/templates.o
GEN_LIB  := $(BUILD)/libcellgen.a
CELLGEN  := $(BUILD)/cellgen
GEN_LIBS  = $(shell pkg-config --libs yaml-0.1 2>/dev/null)

# The templates (gen/templates/, see its README) become one C file of byte
# arrays, so the binary needs nothing beside it. The folders are
# prerequisites too: adding or removing a template changes their time.
GEN_TEMPLATES := $(shell find gen/templates -type f ! -path gen/templates/README.md 2>/dev/null | LC_ALL=C sort)
GEN_TEMPLATE_DIRS := $(shell find gen/templates -type d 2>/dev/null)

$(BUILD)/gen/templates.c: gen/embed.sh $(GEN_TEMPLATES) $(GEN_TEMPLATE_DIRS)
	@mkdir -p $(@D)
	sh gen/embed.sh gen/templates > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/templates.o: $(BUILD)/gen/templates.c | $(DEPS_STAMP)
	$(CC) $(CFLAGS) -c -o $@ $<

$(GEN_LIB): $(GEN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CELLGEN): $(BUILD)/gen/main.o $(GEN_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(GEN_LIBS)

BINS += $(CELLGEN)

# The checked-in example: the spec, the root configuration it generates and
# the modules. CI fails when someone edits one without regenerating.
# The second example takes the options the first cannot (they exclude each
# other): container workers, GitLab CI, Datadog. Both share modules/.
GEN_SPEC  := examples/cellspec.yaml
GEN_SPEC2 := examples/cellspec-containers.yaml
check-generated: $(CELLGEN)
	$(CELLGEN) --check -o examples/multicloud --modules-dir modules $(GEN_SPEC)
	$(CELLGEN) --check -o examples/containers --modules-dir modules $(GEN_SPEC2)

TEST_STEPS += check-generated
.PHONY: regen

# `make regen` rewrites the checked-in output after a spec, template or
# generator change: the examples, and the golden root configurations of
# tests/gen (whose modules are modules/ itself).
regen: $(CELLGEN)
	$(CELLGEN) -o examples/multicloud --modules-dir modules $(GEN_SPEC)
	$(CELLGEN) -o examples/containers --modules-dir modules $(GEN_SPEC2)
	$(CELLGEN) -o $(GEN_GOLDEN)/root --modules-dir modules $(GEN_GOLDEN)/spec.yaml
	@for d in $(GEN_GOLDEN_SECTIONS); do echo "$(CELLGEN) -o $$d/root --modules-dir modules $$d/spec.yaml"; \
	  $(CELLGEN) -o $$d/root --modules-dir modules $$d/spec.yaml || exit 1; done

# Benchmark: 1,000 cells and 100,000 tenants.
BENCH_GEN_DIR := $(BUILD)/bench/gen
bench-gen: $(CELLGEN)
	@mkdir -p $(BENCH_GEN_DIR)
	@bash tests/gen/mkbench.sh 1000 100000 > $(BENCH_GEN_DIR)/spec.yaml
	@rm -rf $(BENCH_GEN_DIR)/out $(BENCH_GEN_DIR)/modules
	$(CELLGEN) --stats -o $(BENCH_GEN_DIR)/out --modules-dir $(BENCH_GEN_DIR)/modules $(BENCH_GEN_DIR)/spec.yaml 2>&1 | tee $(BENCH_GEN_DIR)/result.txt
	$(CELLGEN) --stats --check -o $(BENCH_GEN_DIR)/out --modules-dir $(BENCH_GEN_DIR)/modules $(BENCH_GEN_DIR)/spec.yaml 2>&1 | tee -a $(BENCH_GEN_DIR)/result.txt
BENCH_STEPS += bench-gen
.PHONY: bench-gen
