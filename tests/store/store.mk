# tests/store/store.mk — the routing-map store's benchmark, and the order
# test_cellctl needs (it runs the real cellctl binary).

STORE_BENCH := $(BUILD)/tests/store/bench_store
BENCH_STORE_N ?= 100000

$(STORE_BENCH): $(BUILD)/tests/store/bench_store.o $(LIBCR)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(BUILD)/tests/store/bench_store.o: $(PROTO_H)

# `make bench`: puts/gets per second and a list of BENCH_STORE_N entries.
bench-store: $(STORE_BENCH)
	@mkdir -p $(BUILD)/bench
	$(STORE_BENCH) -n $(BENCH_STORE_N) $(BUILD)/bench/store-bench.db | tee $(BUILD)/bench/store.txt
	@rm -f $(BUILD)/bench/store-bench.db $(BUILD)/bench/store-bench.db-wal $(BUILD)/bench/store-bench.db-shm
BENCH_STEPS += bench-store
.PHONY: bench-store

$(BUILD)/tests/unit/test_cellctl: | $(CELLCTL_BIN)
