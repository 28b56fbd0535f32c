# tests/gen/gen-tests.mk — every test of cellgen (the generator is built by
# gen/gen.mk).
#
#   cmocka units         tests/gen/unit/test_cellgen_*.c, in `make test-unit`
#   make check-golden    the golden spec's root configuration
#                        (tests/gen/golden/root) and modules/ are current;
#                        the command line as CI uses it (cli.sh); the
#                        modules' expressions and READMEs (hcleval)
#   make check-templates the templates checked by their own languages' tools:
#                        `terraform fmt -check` on the HCL (skipped, with a
#                        line saying so, without terraform), `node --check`
#                        on the JavaScript (likewise without node)
#   make test-gencheck   gencheck's own cases (tests/gen/selftest.sh), then
#                        gencheck on the generated modules and root configs
#   make gen-schemas     regenerate tests/gen/schemas/{aws,azurerm,cloudflare}.json from
#                        the cdktf packages (npm ci in tests/gen/cdktf first)
#
# gencheck and hcleval are Go in GOPATH mode against Debian's packaged hcl/v2
# and go-cty (/usr/share/gocode): no module download, no network. The schema
# fixtures are checked in, so `make test` needs neither npm nor node.

# ---- cellgen's units -----------------------------------------------------------
# The cmocka tests link libcellgen; they also read JSON (the spec schema).
GEN_TEST_SRC  := $(wildcard tests/gen/unit/test_*.c)
GEN_TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(GEN_TEST_SRC))
GEN_TEST_LIBS  = $(shell pkg-config --libs jansson 2>/dev/null)
UNIT_TESTS    += $(GEN_TEST_BINS)

$(BUILD)/tests/gen/unit/%: $(BUILD)/tests/gen/unit/%.o $(GEN_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(GEN_LIBS) $(GEN_TEST_LIBS) $(CMOCKA_LIBS)

# ---- golden files --------------------------------------------------------------
# A small spec touching every template path, with its root configuration.
# Its modules are modules/ itself: they do not depend on the spec, so the
# one checked-in copy is checked against this spec too.
GEN_GOLDEN := tests/gen/golden
# Golden specs of section options the main one cannot take with its own
# (they exclude each other): tests/gen/golden/<name>/spec.yaml and root/.
GEN_GOLDEN_SECTIONS := $(patsubst %/spec.yaml,%,$(wildcard $(GEN_GOLDEN)/*/spec.yaml))
GEN_GOENV  := GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0 GOPATH=/usr/share/gocode \
              GOCACHE=$(CURDIR)/$(BUILD)/gocache
check-golden: $(CELLGEN)
	$(CELLGEN) --check -o $(GEN_GOLDEN)/root --modules-dir modules $(GEN_GOLDEN)/spec.yaml
	@for d in $(GEN_GOLDEN_SECTIONS); do echo "$(CELLGEN) --check -o $$d/root --modules-dir modules $$d/spec.yaml"; \
	  $(CELLGEN) --check -o $$d/root --modules-dir modules $$d/spec.yaml || exit 1; done
	@bash tests/gen/cli.sh $(CELLGEN) $(GEN_GOLDEN) modules
	@bash tests/gen/errors.sh $(CELLGEN) $(GEN_GOLDEN)/errors
	@echo "== hcleval: the modules' computed expressions and READMEs, with HCL/go-cty"
	@$(GEN_GOENV) $(GO) run ./tests/gen/hcleval modules

# ---- the templates, by their own tools -----------------------------------------
GEN_TF := $(shell command -v terraform 2>/dev/null)
check-templates:
	@if [ -n "$(GEN_TF)" ]; then \
	  echo "== templates: $(GEN_TF) fmt -check gen/templates (and the generated output)"; \
	  TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 $(GEN_TF) fmt -check -diff -recursive gen/templates && \
	  TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 $(GEN_TF) fmt -check -diff -recursive modules && \
	  TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 $(GEN_TF) fmt -check -diff -recursive examples/multicloud && \
	  TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 $(GEN_TF) fmt -check -diff -recursive examples/containers && \
	  TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 $(GEN_TF) fmt -check -diff -recursive $(GEN_GOLDEN); \
	else \
	  echo "== templates: terraform fmt -check SKIPPED: no terraform on PATH (gencheck's hclwrite format check still covers the output)"; \
	fi
	@if command -v node >/dev/null 2>&1; then \
	  for f in $$(find gen/templates -name '*.js'); do \
	    echo "== templates: node --check $$f"; \
	    node --input-type=module --check < $$f || exit 1; \
	  done; \
	else \
	  echo "== templates: node --check SKIPPED: no node on PATH"; \
	fi

# ---- the CI pipelines, by their CI systems' published schemas -----------------
# tests/gen/ci/validate.js: GitHub workflows against SchemaStore's
# github-workflow schema, .gitlab-ci.yml against GitLab's ci.json, from the
# npm packages pinned in tests/gen/ci/package-lock.json (scripts/deps.sh
# installs them). Without them the step says so and checks nothing.
GEN_CI_READY = command -v node >/dev/null && (cd tests/gen/ci && node -e \
  'const p = require("./package.json"); for (const d of Object.keys(p.dependencies)) \
   if (require("./node_modules/" + d + "/package.json").version !== p.dependencies[d]) process.exit(1)' \
  2>/dev/null)
GEN_CI_DIRS = examples/multicloud examples/containers $(GEN_GOLDEN)/root $(patsubst %,%/root,$(GEN_GOLDEN_SECTIONS))
check-ci-schemas:
	@if $(GEN_CI_READY); then \
	  echo "== ci pipelines: validated against the CI systems' published schemas"; \
	  node tests/gen/ci/validate.js $(GEN_CI_DIRS); \
	else \
	  echo "== ci pipelines: SKIPPED: the pinned packages of tests/gen/ci are not installed (scripts/deps.sh, or npm ci there)"; \
	fi

TEST_STEPS += check-golden check-templates check-ci-schemas
.PHONY: check-golden check-templates check-ci-schemas

# ---- gencheck ------------------------------------------------------------------
GENCHECK_BIN    := $(BUILD)/gencheck
GENCHECK_SRC    := $(wildcard tests/gen/check/*.go)
GENCHECK_GOENV  := GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
                   GOPATH=$(CURDIR)/$(BUILD)/gopath-gencheck:/usr/share/gocode \
                   GOCACHE=$(CURDIR)/$(BUILD)/gocache
GENCHECK_SCHEMAS := tests/gen/schemas
# The cellrouter provider has no cdktf package: its schema is read from the
# binary itself, through tfcore (tests/tfcore), in `providers schema -json`
# form, so cellrouter_tenant blocks get the same checks. The names are those
# provider.mk and tfcore.mk build.
GENCHECK_TFCORE   := $(BUILD)/tfcore
GENCHECK_PROVIDER := $(BUILD)/terraform-provider-cellrouter
GENCHECK_CRSCHEMA := $(BUILD)/gencheck-cellrouter-schema.json
GENCHECK_CRARGS    = -providers-schema $(GENCHECK_CRSCHEMA)

# The matched pair and the root configuration cellgen writes.
GENCHECK_AWS    := modules/aws_event_cell
GENCHECK_AZURE  := modules/azure_event_cell
GENCHECK_ROOT   := examples/multicloud
# Every generated module folder, once it exists (a folder with .tf files).
GENCHECK_DIRS    = $(sort $(patsubst %/,%,$(dir $(wildcard modules/*/*.tf $(GENCHECK_ROOT)/*.tf examples/containers/*.tf))))
# cellgen's golden root configuration (tests/gen/golden/root) is generated
# Terraform too, from another spec: it gets the same checks.
GENCHECK_GOLDEN_DIRS = $(sort $(patsubst %/,%,$(dir $(wildcard $(GEN_GOLDEN)/root/*.tf $(GEN_GOLDEN)/*/root/*.tf))))

$(GENCHECK_BIN): $(GENCHECK_SRC) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gopath-gencheck
	$(GENCHECK_GOENV) $(GO) build -o $@ ./tests/gen/check

gencheck: $(GENCHECK_BIN)

# The selftest runs first: it proves every check able to fail on the broken
# fixtures under tests/gen/testdata before the real output is judged. When
# the cdktf packages are installed, the fixtures are also regenerated into
# $(BUILD) and must equal the checked-in ones: stale fixtures (a type the
# modules started to use, an edited extract.js) fail here, not silently.
# True when tests/gen/cdktf/node_modules holds exactly the pinned versions of
# every package package.json names (a checkout kept from before a package was
# added or bumped does not).
GENCHECK_CDKTF_READY = command -v node >/dev/null && (cd tests/gen/cdktf && node -e \
  'const p = require("./package.json"); for (const d of Object.keys(p.dependencies)) \
   if (require("./node_modules/" + d + "/package.json").version !== p.dependencies[d]) process.exit(1)' \
  2>/dev/null)

$(GENCHECK_CRSCHEMA): $(GENCHECK_TFCORE) $(GENCHECK_PROVIDER)
	cd $(BUILD) && ./tfcore schema > $(CURDIR)/$@.tmp
	@mv $@.tmp $@

test-gencheck: $(GENCHECK_BIN) $(GENCHECK_CRSCHEMA)
	@echo "== gencheck go test (tests/gen/check)"
	@$(GENCHECK_GOENV) $(GO) test ./tests/gen/check
	@echo "== gencheck selftest (tests/gen/testdata)"
	@bash tests/gen/selftest.sh $(GENCHECK_BIN)
	@if $(GENCHECK_CDKTF_READY); then \
	  echo "== schema fixtures up to date with the cdktf packages"; \
	  rm -rf $(BUILD)/gen-schemas && mkdir -p $(BUILD)/gen-schemas && \
	  node tests/gen/cdktf/extract.js $(CURDIR) $(BUILD)/gen-schemas >/dev/null && \
	  diff -r -q $(GENCHECK_SCHEMAS) $(BUILD)/gen-schemas || \
	  { echo "$(GENCHECK_SCHEMAS) is stale: run make gen-schemas and commit it" >&2; exit 1; }; \
	else \
	  echo "== schema fixtures: the pinned cdktf packages are not installed (make gen-schemas installs them), freshness not checked"; \
	fi
	@if [ -z "$(GENCHECK_DIRS)" ]; then \
	  echo "== gencheck: no generated modules yet ($(GENCHECK_AWS), $(GENCHECK_AZURE), $(GENCHECK_ROOT)): fixtures only"; \
	else \
	  match=""; \
	  if [ -d $(GENCHECK_AWS) ] || [ -d $(GENCHECK_AZURE) ]; then \
	    match="-match $(GENCHECK_AWS),$(GENCHECK_AZURE)"; \
	  fi; \
	  echo "== gencheck $$match $(GENCHECK_DIRS)"; \
	  $(GENCHECK_BIN) -schemas $(GENCHECK_SCHEMAS) $(GENCHECK_CRARGS) $$match $(GENCHECK_DIRS); \
	fi
	@if [ -n "$(GENCHECK_GOLDEN_DIRS)" ]; then \
	  echo "== gencheck $(GENCHECK_GOLDEN_DIRS)"; \
	  $(GENCHECK_BIN) -schemas $(GENCHECK_SCHEMAS) $(GENCHECK_CRARGS) $(GENCHECK_GOLDEN_DIRS); \
	fi

gen-schemas:
	@command -v npm >/dev/null || { echo "gen-schemas: npm is needed (scripts/deps.sh installs it)" >&2; exit 1; }
	@$(GENCHECK_CDKTF_READY) || (cd tests/gen/cdktf && npm ci --no-audit --no-fund)
	node tests/gen/cdktf/extract.js $(CURDIR)

.PHONY: gencheck test-gencheck gen-schemas
TEST_STEPS += test-gencheck
