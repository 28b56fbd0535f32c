# tests/tfcore/tfcore.mk — tfcore (a stand-in for Terraform core, in Go), the
# end-to-end tests that drive the provider through it, and the provider
# benchmarks.
#
# Go is used in GOPATH mode against Debian's packaged libraries only
# (/usr/share/gocode): no module download, no network. The Go sources are
# linked into $(BUILD)/gopath/src/cellrouter/tfcore and the tfplugin6 Go code
# is generated from schemas/ into $(BUILD)/gopath/src/cellrouter/proto/.

TFCORE_BIN     := $(BUILD)/tfcore
TFCORE_GOPATH  := $(CURDIR)/$(BUILD)/gopath
TFCORE_SRC     := $(wildcard tests/tfcore/*.go)
# The tfplugin6 protocol file; overridable only to build against a draft.
TFCORE_PROTO   ?= schemas/tfplugin6.proto
TFCORE_PROTO_GO := $(BUILD)/gopath/src/cellrouter/proto/tfplugin6/tfplugin6.pb.go
TFCORE_GOENV   := GO111MODULE=off GOFLAGS= GOPATH=$(TFCORE_GOPATH):/usr/share/gocode \
                  GOCACHE=$(CURDIR)/$(BUILD)/gocache GOPROXY=off CGO_ENABLED=0

# grpc-go 1.33 predates UnimplementedProviderServer embedding rules of newer
# generators; require_unimplemented_servers=false keeps the generated server
# side buildable (tfcore only uses the client side).
$(TFCORE_PROTO_GO): $(TFCORE_PROTO) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gopath/src
	protoc --proto_path=$(dir $(TFCORE_PROTO)) --proto_path=/usr/include \
	  --go_out=$(BUILD)/gopath/src --go-grpc_out=$(BUILD)/gopath/src \
	  --go-grpc_opt=require_unimplemented_servers=false $(TFCORE_PROTO)

# go-plugin's GRPCStdio service, which Debian's go-plugin 1.0.1 predates:
# tfcore opens the stream itself, as go-plugin >= 1.3 does.
TFCORE_STDIO_PROTO := schemas/grpc_stdio.proto
TFCORE_STDIO_GO    := $(BUILD)/gopath/src/cellrouter/proto/plugin/grpc_stdio.pb.go
$(TFCORE_STDIO_GO): $(TFCORE_STDIO_PROTO) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gopath/src
	protoc --proto_path=$(dir $(TFCORE_STDIO_PROTO)) --proto_path=/usr/include \
	  --go_out=$(BUILD)/gopath/src --go-grpc_out=$(BUILD)/gopath/src \
	  --go-grpc_opt=require_unimplemented_servers=false $(TFCORE_STDIO_PROTO)

$(TFCORE_BIN): $(TFCORE_SRC) $(TFCORE_PROTO_GO) $(TFCORE_STDIO_GO)
	@mkdir -p $(BUILD)/gopath/src/cellrouter
	@ln -sfn $(CURDIR)/tests/tfcore $(BUILD)/gopath/src/cellrouter/tfcore
	cd $(BUILD)/gopath/src/cellrouter/tfcore && $(TFCORE_GOENV) $(GO) build -o $(CURDIR)/$@ .

tfcore: $(TFCORE_BIN)
.PHONY: tfcore test-tfcore test-e2e test-fleet bench-provider

# tfcore's own rules (schema checks, plan/apply checks, config, state,
# rendering), without a provider.
test-tfcore: $(TFCORE_BIN)
	cd $(BUILD)/gopath/src/cellrouter/tfcore && $(TFCORE_GOENV) $(GO) test .

# End-to-end: the real provider (ASan-built under `make test-asan`, since
# BUILD is then build-asan) driven by tfcore. TFCORE_VALGRIND=1 adds a run
# of one scenario with the provider under valgrind.
test-e2e: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) SAN=$(SAN) bash tests/e2e/run.sh

bench-provider: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) bash bench/provider.sh

# Fleet scale: one cellrouter_tenants resource of FLEET_N tenants (100,000;
# 10,000 under SAN=1) and the batch conflict / partial-failure cases
# (tests/e2e/fleet.sh).
test-fleet: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@BUILD=$(BUILD) SAN=$(SAN) bash tests/e2e/fleet.sh

TEST_STEPS  += test-tfcore test-e2e test-fleet
BENCH_STEPS += bench-provider
