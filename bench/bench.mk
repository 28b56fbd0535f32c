# bench/bench.mk — provider-side benchmarks under bench/ (make bench).
#
# bench-tenants: cellrouter_tenants at 10,000 and 100,000 tenants through
# the tfplugin6 handlers in process (bench/bench_tenants.c); figures in
# $(BUILD)/bench/tenants.txt. Handlers run on the server's detached cr_call
# (cr_call_new_detached), so the response arena is the real one.

BENCH_TENANTS := $(BUILD)/bench/bench_tenants

$(BENCH_TENANTS): bench/bench_tenants.c $(LIBCR) $(PROTO_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ bench/bench_tenants.c $(LIBCR) $(PKG_LIBS)

bench-tenants: $(BENCH_TENANTS)
	@mkdir -p $(BUILD)/bench
	@$(BENCH_TENANTS) | tee $(BUILD)/bench/tenants.txt

BENCH_STEPS += bench-tenants
.PHONY: bench-tenants
