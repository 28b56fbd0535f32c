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

test-e2e-terraform: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@if [ "$(SAN)" = 1 ]; then \
	  echo "e2e (terraform): skipped under SAN=1 (the plain build runs it; test-e2e runs the suite under tfcore here)"; \
	elif tf=$${TERRAFORM:-$$(command -v terraform)} && [ -n "$$tf" ] && [ -x "$$tf" ]; then \
	  BUILD=$(BUILD) SAN=$(SAN) TF_DRIVER=terraform TERRAFORM=$$tf bash tests/e2e/run.sh; \
	else \
	  echo "e2e (terraform): SKIPPED: no terraform on PATH (set TERRAFORM=/path/to/terraform); test-e2e runs the suite under tfcore"; \
	fi

TEST_STEPS += test-e2e-terraform
.PHONY: test-e2e-tfcore test-e2e-terraform
