# tests/edge/edge.mk — the edge end to end: the provider's Workers KV
# backend and the edge router (straight from its template,
# gen/templates/root/edge/worker.js), in workerd via miniflare (npm,
# pinned by tests/edge/package-lock.json; scripts/deps.sh installs it).
# Skipped with a message when Node.js is absent.

test-edge: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) bash tests/edge/run.sh

# Requests per second through the local router and the time to apply 1,000
# tenants against the local KV API; figures in $(BUILD)/bench/edge.txt. The
# router takes turns with the one before cells had states (issue 13), so
# the two figures see the same machine load.
BENCH_EDGE_BASELINE ?= git:d7d6de9
bench-edge: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) BENCH_EDGE_BASELINE=$(BENCH_EDGE_BASELINE) bash tests/edge/bench.sh

.PHONY: test-edge bench-edge
TEST_STEPS  += test-edge
BENCH_STEPS += bench-edge

# Cloudflare API requests per operation for a fleet of 100,000 tenants
# (BENCH_KV_TENANTS), counted by the KV API stand-in, against the targets of
# issue 17; figures in $(BUILD)/bench/kv-requests.txt.
bench-kv-requests: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) bash tests/edge/bench_requests.sh

.PHONY: bench-kv-requests
BENCH_STEPS += bench-kv-requests
