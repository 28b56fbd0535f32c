# provider/provider.mk — the provider, cellctl and their unit tests.
#
# Every .c under the layer folders goes into one static library; the two
# programs and each tests/unit/test_*.c link against it. Adding a file to a
# layer needs no edit here.

PROTO_SRC  := $(wildcard schemas/*.proto)
# Well-known types imported by schemas/ (timestamp by tfplugin6, empty by
# grpc_stdio): protobuf-c ships no generated code for them, so they are
# generated here too, from the copies protoc installs under /usr/include.
PROTO_WKT  := google/protobuf/timestamp.proto google/protobuf/empty.proto
PROTO_C    := $(patsubst schemas/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRC)) \
              $(patsubst %.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_WKT))
PROTO_H    := $(PROTO_C:.c=.h)
PROTO_OBJ  := $(PROTO_C:.c=.o)

# protoc-c writes <name>.pb-c.{c,h} for every .proto; one rule runs it on
# all of them so imports resolve against schemas/ and /usr/include.
$(PROTO_C) $(PROTO_H) &: $(PROTO_SRC) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=schemas --proto_path=/usr/include --c_out=$(BUILD)/proto \
	  $(PROTO_SRC) $(addprefix /usr/include/,$(PROTO_WKT))

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(CC) $(filter-out -Werror,$(CFLAGS)) -c -o $@ $<

PROVIDER_LAYERS := common value store resource rpc plugin
PROVIDER_SRC := $(foreach d,$(PROVIDER_LAYERS),$(wildcard provider/$(d)/*.c))
# C++ only where a C++ dependency has no C interface (plugin/absl.cc).
PROVIDER_CXX_SRC := $(foreach d,$(PROVIDER_LAYERS),$(wildcard provider/$(d)/*.cc))
PROVIDER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(PROVIDER_SRC)) \
                $(patsubst %.cc,$(BUILD)/%.o,$(PROVIDER_CXX_SRC))
LIBCR        := $(BUILD)/libcellrouter.a

# Every object may include generated protobuf headers.
$(PROVIDER_OBJ) $(BUILD)/provider/main.o $(BUILD)/provider/cellctl/cellctl.o: $(PROTO_H)

$(LIBCR): $(PROVIDER_OBJ) $(PROTO_OBJ)
	@rm -f $@
	ar rcs $@ $^

PROVIDER_BIN := $(BUILD)/terraform-provider-cellrouter
CELLCTL_BIN  := $(BUILD)/cellctl

$(PROVIDER_BIN): $(BUILD)/provider/main.o $(LIBCR)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(CELLCTL_BIN): $(BUILD)/provider/cellctl/cellctl.o $(LIBCR)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

BINS += $(PROVIDER_BIN) $(CELLCTL_BIN)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
UNIT_TESTS += $(UNIT_BINS)

# The tests' shared helpers (tests/unit/support/, "support/support.h"):
# linked into every unit test. A static pattern rule, so that the test
# programs' pattern below never claims these objects.
UNIT_SUPPORT_SRC := $(wildcard tests/unit/support/*.c)
UNIT_SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SUPPORT_SRC))
$(UNIT_SUPPORT_OBJ): $(BUILD)/%.o: %.c $(PROTO_H) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<
$(patsubst %,%.o,$(UNIT_BINS)) $(UNIT_SUPPORT_OBJ): CFLAGS += -Itests/unit

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(UNIT_SUPPORT_OBJ) $(LIBCR)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)
$(patsubst %,%.o,$(UNIT_BINS)): $(PROTO_H)

# `make install`: the provider in a filesystem mirror laid out as Terraform
# expects (see README). PREFIX defaults to ~/.terraform.d/plugins.
MIRROR ?= $(HOME)/.terraform.d/plugins
OS_ARCH := $(shell go env GOOS 2>/dev/null || echo linux)_$(shell go env GOARCH 2>/dev/null || echo amd64)
install: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD) $(PROVIDER_BIN)
	install -D -m 0755 $(PROVIDER_BIN) \
	  $(MIRROR)/registry.terraform.io/cellrouter/cellrouter/$(PROVIDER_VERSION)/$(OS_ARCH)/terraform-provider-cellrouter_v$(PROVIDER_VERSION)
	@echo "installed into $(MIRROR)"
