# bench/fleet.mk — fleets at scale (make bench-fleet, part of make bench).
#
#   bench/fleet.sh       under the real Terraform when there is one: the
#                        fleet in terraform_data (the baseline, 10,000 and
#                        100,000), in cellrouter_tenants' tenants_json (10,000
#                        and 100,000, with the ratios to the baseline) and
#                        tenants map (2,500 / 5,000 / 10,000) side by side,
#                        and 1,000,000 tenants sharded over 100 resources;
#                        the exit after Shutdown over 20 plans and 20
#                        applies under TF_LOG=debug ("failed to exit
#                        gracefully" lines counted); the tfcore figures with
#                        the provider's CPU apart. $(BUILD)/bench/fleet.txt.
#   the fleet test       tests/e2e/fleet.sh `fleet` at BENCH_FLEET_TEST_N
#                        (100,000) tenants: out of make test, which runs it
#                        at 2,000, since it takes minutes.
#
# Sizes and parts: see bench/fleet.sh (BENCH_FLEET_PARTS, BENCH_FLEET_*).

BENCH_FLEET_TEST_N ?= 100000

bench-fleet: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) bash bench/fleet.sh
	@echo "== the fleet test at $(BENCH_FLEET_TEST_N) tenants (tests/e2e/fleet.sh fleet)"
	@BUILD=$(BUILD) FLEET_N=$(BENCH_FLEET_TEST_N) bash tests/e2e/fleet.sh fleet

BENCH_STEPS += bench-fleet
.PHONY: bench-fleet
