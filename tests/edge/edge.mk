# tests/edge/edge.mk — the edge end to end: the provider's Workers KV
# backend and the edge router (straight from its template,
# gen/templates/root/edge/worker.js), in workerd via miniflare (npm,
# pinned by tests/edge/package-lock.json; scripts/deps.sh installs it).
# Skipped with a message when Node.js is absent.

test-edge: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) bash tests/edge/run.sh

# Requests per second through the local router and the time to apply 1,000
# tenants against the local KV API; figures in $(BUILD)/bench/edge.txt.
bench-edge: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) bash tests/edge/bench.sh

.PHONY: test-edge bench-edge
TEST_STEPS  += test-edge
BENCH_STEPS += bench-edge
