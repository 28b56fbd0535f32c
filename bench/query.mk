# bench/query.mk — `terraform query` over a large routing map (make
# bench-query, part of make bench): the provider's peak memory streaming
# 1,000, 10,000 and 100,000 entries through ListResource, against the data
# source reading them as one message (bench/query.sh; BENCH_QUERY_SIZES).
# Figures in $(BUILD)/bench/query.txt.

bench-query: $(TFCORE_BIN) $(PROVIDER_BIN) $(E2E_SEEDMAP)
	@BUILD=$(BUILD) bash bench/query.sh

BENCH_STEPS += bench-query
.PHONY: bench-query
