# bench/fleet.mk — fleet benchmarks through tfcore (bench/fleet.sh): one
# cellrouter_tenants resource of 10,000 and 100,000 tenants against 10,000
# cellrouter_tenant resources, on SQLite and on the local Cloudflare KV API;
# apply, no-change plan and a 1% change, with wall time, CPU time and peak
# memory of tfcore and of the provider apart. Figures in
# $(BUILD)/bench/fleet.txt. Sizes: BENCH_FLEET_SIZES, BENCH_FLEET_SINGLES,
# BENCH_FLEET_KV_SIZES (see the script).

bench-fleet: $(TFCORE_BIN) $(PROVIDER_BIN)
	@BUILD=$(BUILD) bash bench/fleet.sh

BENCH_STEPS += bench-fleet
.PHONY: bench-fleet
