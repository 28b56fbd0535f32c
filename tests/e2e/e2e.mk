# tests/e2e/e2e.mk — the end-to-end suite (tests/e2e/run.sh) under the real
# Terraform. tests/tfcore/tfcore.mk runs the same suite under tfcore
# (test-e2e, also reachable as test-e2e-tfcore) and the fleet tests.
#
#   test-e2e-terraform   tests/e2e/run.sh with TF_DRIVER=terraform: the
#                        Terraform CLI on PATH (or $TERRAFORM) drives the
#                        provider through dev_overrides, no network, no
#                        `terraform init`. Skipped, saying so, when there is
#                        no terraform; and under SAN=1 (make test-asan): the
#                        real Terraform gives a provider 2 s to exit, which
#                        an instrumented one does not always make on a
#                        loaded machine, and the instrumented provider
#                        already runs every scenario under tfcore there.

test-e2e-tfcore: test-e2e

# The suite's own programs, built with the provider's library:
#   seedmap     writes a map of N entries in a few transactions (the query
#               tests' 1,000 in a second; bench/query.sh's 100,000)
#   broken/*    copies of the provider broken on purpose, never shipped, for
#               the tests that show the harness's checks failing
#               (t_broken_tls, t_broken_identity): identity/ is built with
#               -DCR_TEST_BREAK_IDENTITY (provider/rpc/identity_rpc.c);
#               no-alpn/ and tls11/ link tests/e2e/broken_tls.c
E2E_SEEDMAP := $(BUILD)/tests/seedmap
BROKEN      := $(BUILD)/broken
BROKEN_BINS := $(addsuffix /terraform-provider-cellrouter,\
                 $(addprefix $(BROKEN)/,identity no-alpn tls11))
E2E_HELPERS := $(E2E_SEEDMAP) $(BROKEN_BINS)

$(E2E_SEEDMAP): tests/e2e/seedmap.c $(LIBCR) $(PROTO_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/e2e/seedmap.c $(LIBCR) $(PKG_LIBS)

$(BROKEN)/identity_rpc.o: provider/rpc/identity_rpc.c $(PROTO_H) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DCR_TEST_BREAK_IDENTITY -c -o $@ $<
$(BROKEN)/no_alpn.o: tests/e2e/broken_tls.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DBREAK_NO_ALPN -c -o $@ $<
$(BROKEN)/tls11.o: tests/e2e/broken_tls.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DBREAK_TLS11 -c -o $@ $<
$(BROKEN)/identity/terraform-provider-cellrouter: $(BROKEN)/identity_rpc.o
$(BROKEN)/no-alpn/terraform-provider-cellrouter: $(BROKEN)/no_alpn.o
$(BROKEN)/tls11/terraform-provider-cellrouter: $(BROKEN)/tls11.o
$(BROKEN_BINS): $(BUILD)/provider/main.o $(LIBCR)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBCR) $(PKG_LIBS) -ldl

test-e2e: $(E2E_HELPERS)

test-e2e-terraform: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN) $(E2E_HELPERS)
	@if [ "$(SAN)" = 1 ]; then \
	  echo "e2e (terraform): skipped under SAN=1 (the plain build runs it; test-e2e runs the suite under tfcore here)"; \
	elif tf=$${TERRAFORM:-$$(command -v terraform)} && [ -n "$$tf" ] && [ -x "$$tf" ]; then \
	  BUILD=$(BUILD) SAN=$(SAN) TF_DRIVER=terraform TERRAFORM=$$tf bash tests/e2e/run.sh; \
	else \
	  echo "e2e (terraform): SKIPPED: no terraform on PATH (set TERRAFORM=/path/to/terraform); test-e2e runs the suite under tfcore"; \
	fi

TEST_STEPS += test-e2e-terraform
.PHONY: test-e2e-tfcore test-e2e-terraform
