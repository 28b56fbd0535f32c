# release/release.mk — what a user installs: the version, fully static
# executables for linux_amd64 and linux_arm64, the release archives in the
# Terraform Registry's format, filesystem and network mirrors, and the
# registry docs (release/README.md explains each choice).
#
#   make release [GPG_KEY=id]  dist/: one zip per platform, SHA256SUMS (and
#                              its detached signature with GPG_KEY), manifest
#   make mirror [MIRROR=dir]   the zips as a packed filesystem mirror and a
#                              network mirror (default dir: dist/mirror)
#   make docs                  docs/ from the provider's own schema + examples/
#   make check-docs            fails with a diff when docs/ is stale (make test)
#   make test-release          the static executables of both architectures in
#                              an empty root (chroot; arm64 under qemu), the
#                              archives, hashes and mirrors (make test)
#
# Only the plain build runs these steps: under SAN=1 (make test-asan) the
# release is not rebuilt.

# ---- the version: VERSION, passed to the three programs -----------------

REL_VERSION   := $(PROVIDER_VERSION)
VERSION_STAMP := $(BUILD)/.version
REL_MAINS     := $(BUILD)/provider/main.o $(BUILD)/provider/cellctl/cellctl.o \
                 $(BUILD)/gen/main.o

# Rewritten only when the version changes, so the mains are recompiled
# exactly then (a `make install PROVIDER_VERSION=...` included).
$(VERSION_STAMP): release-force
	@mkdir -p $(@D)
	@echo '$(REL_VERSION)' | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?' || \
	  { echo "VERSION: \"$(REL_VERSION)\" is not MAJOR.MINOR.PATCH[-PRERELEASE], which Terraform requires" >&2; exit 1; }
	@echo '$(REL_VERSION)' | cmp -s - $@ || echo '$(REL_VERSION)' >$@
$(REL_MAINS): $(VERSION_STAMP)
$(REL_MAINS): CFLAGS += -DCR_RELEASE_VERSION='"$(REL_VERSION)"'
.PHONY: release-force

# ---- static executables of one architecture ------------------------------
#
# Made by a sub-make per architecture (below) whose pkg-config sees that
# architecture's libraries: the objects of $(BUILD) linked with -static
# against Debian's static archives, libstdc++ (gRPC core is C++) and the
# libcurl of scripts/build-curl.sh. Debian ships yajl's static archive as
# libyajl_s.a. Stripped, as release binaries are; readelf proves there is no
# dynamic section and no interpreter left.

STATIC_DIR  := $(BUILD)/static
# STATIC_PC: where the libraries built from source put their .pc files,
# searched first for the link only. linux_amd64 relinks the objects the
# normal build compiled against Debian's headers (OpenSSL's 3.0 headers: a
# program built against 3.0 runs on any 3.x, OpenSSL's ABI promise);
# compiling them against the 3.5 headers here would hand the dynamic build
# objects for a newer library than it links.
STATIC_PC   ?=
static_pkg   = $(shell PKG_CONFIG_PATH=$(STATIC_PC)$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH} pkg-config --static --libs $(1) 2>/dev/null)
# Their directories also go first on the line: other .pc files of a
# sysroot name its lib directory (which holds Debian's libssl.a) earlier.
static_pkg_L = $(filter -L%,$(call static_pkg,$(1)))
STATIC_LIBS  = $(call static_pkg_L,libssl libcurl) \
               $(patsubst -lyajl,-l:libyajl_s.a,$(call static_pkg,$(PKGS)))
STATIC_GEN_LIBS = $(call static_pkg_L,libcrypto) $(call static_pkg,yaml-0.1 libcrypto)
STATIC_LD    = -static -s -pthread
# The key files of the libraries built from source (scripts/build-*.sh):
# a new OpenSSL or libcurl relinks the executables.
STATIC_KEYS ?=
# static_link CMD: runs the link, leaving out glibc's notes that getaddrinfo,
# getpwuid_r, dlopen and the like, when called, would load NSS modules or
# shared objects (release/README.md: why the release never needs them);
# everything else the linker says is shown.
define static_link
@echo "$(1)"; $(1) 2>$@.ld; st=$$?; \
  awk '/in statically linked applications requires at runtime/ { held = ""; next } \
       { if (held != "") print held; held = (/: in function .*:$$/) ? $$0 : ""; if (held == "") print } \
       END { if (held != "") print held }' $@.ld >&2; rm -f $@.ld; exit $$st
endef
define static_check
@readelf -d $(1) 2>&1 | grep -q 'There is no dynamic section' && \
  ! readelf -lW $(1) | grep -q 'INTERP' || \
  { echo "$(1) is not a static executable" >&2; rm -f $(1); exit 1; }
endef

$(STATIC_DIR)/terraform-provider-cellrouter: $(BUILD)/provider/main.o $(LIBCR) $(STATIC_KEYS)
	@mkdir -p $(@D)
	$(call static_link,$(CXX) $(STATIC_LD) -o $@ $(filter %.o %.a,$^) $(STATIC_LIBS))
	$(call static_check,$@)
$(STATIC_DIR)/cellctl: $(BUILD)/provider/cellctl/cellctl.o $(LIBCR) $(STATIC_KEYS)
	@mkdir -p $(@D)
	$(call static_link,$(CXX) $(STATIC_LD) -o $@ $(filter %.o %.a,$^) $(STATIC_LIBS))
	$(call static_check,$@)
$(STATIC_DIR)/cellgen: $(BUILD)/gen/main.o $(GEN_LIB) $(STATIC_KEYS)
	@mkdir -p $(@D)
	$(call static_link,$(CC) $(STATIC_LD) -o $@ $(filter %.o %.a,$^) $(STATIC_GEN_LIBS))
	$(call static_check,$@)
static-bins: $(STATIC_DIR)/terraform-provider-cellrouter $(STATIC_DIR)/cellctl \
             $(STATIC_DIR)/cellgen
.PHONY: static-bins

# ---- both architectures ---------------------------------------------------
#
# linux_amd64 relinks this build's own objects; linux_arm64 is a second
# build tree, $(BUILD)/arm64, compiled with Debian's cross compiler against
# a private sysroot of Debian's :arm64 -dev packages (scripts/sysroot.sh).
# OpenSSL comes from Debian 13's source package (scripts/build-openssl.sh:
# 3.5, which starts the provider in a third of 3.0's instructions) and
# libcurl from Debian's, built against it (scripts/build-curl.sh); all are
# cached in $(BUILD), keyed on the Debian versions. The OpenSSL's .pc files
# come first on the pkg-config path of the link (STATIC_PC), so gRPC's and
# libcurl's dependency on "openssl" links it, not Debian 12's libssl.a.

REL_CACHE    := $(BUILD)/cache
OPENSSL_AMD64 := $(CURDIR)/$(BUILD)/openssl-amd64
CURL_AMD64   := $(CURDIR)/$(BUILD)/curl-amd64
SYSROOT_ARM64 := $(CURDIR)/$(BUILD)/sysroot-arm64/root
OPENSSL_ARM64 := $(SYSROOT_ARM64)/opt/openssl
ARM64_PC     := $(SYSROOT_ARM64)/usr/local/lib/pkgconfig:$(SYSROOT_ARM64)/usr/lib/aarch64-linux-gnu/pkgconfig:$(SYSROOT_ARM64)/usr/share/pkgconfig
ARM64_BUILD  := $(BUILD)/arm64
# The arm64 tree is a whole second compile: two jobs when make was given
# no -j of its own (CI runs make test serially on two cores).
REL_JOBS     := $(if $(filter -j%,$(MAKEFLAGS)),,-j2)
REL_BIN_linux_amd64 := $(STATIC_DIR)
REL_BIN_linux_arm64 := $(ARM64_BUILD)/static

static-linux_amd64: | $(DEPS_STAMP)
	@bash scripts/build-openssl.sh amd64 $(OPENSSL_AMD64) $(REL_CACHE)
	@bash scripts/build-curl.sh amd64 $(CURL_AMD64) $(OPENSSL_AMD64) $(REL_CACHE)
	@$(MAKE) --no-print-directory BUILD=$(BUILD) \
	  STATIC_PC=$(OPENSSL_AMD64)/lib/pkgconfig:$(CURL_AMD64)/lib/pkgconfig \
	  STATIC_KEYS="$(OPENSSL_AMD64)/key $(CURL_AMD64)/key" static-bins

static-linux_arm64: | $(DEPS_STAMP)
	@bash scripts/sysroot.sh arm64 $(BUILD)/sysroot-arm64
	@bash scripts/build-openssl.sh arm64 $(OPENSSL_ARM64) $(REL_CACHE) $(SYSROOT_ARM64)
	@CC=aarch64-linux-gnu-gcc bash scripts/build-curl.sh arm64 \
	  $(SYSROOT_ARM64)/usr/local $(OPENSSL_ARM64) $(REL_CACHE) $(SYSROOT_ARM64)
	@PKG_CONFIG_LIBDIR=$(ARM64_PC) PKG_CONFIG_SYSROOT_DIR=$(SYSROOT_ARM64) \
	  $(MAKE) --no-print-directory $(REL_JOBS) BUILD=$(ARM64_BUILD) \
	  CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ \
	  STATIC_PC=$(OPENSSL_ARM64)/lib/pkgconfig \
	  STATIC_KEYS="$(OPENSSL_ARM64)/key $(SYSROOT_ARM64)/usr/local/key" \
	  EXTRA_CFLAGS=-I$(SYSROOT_ARM64)/usr/include/aarch64-linux-gnu static-bins
.PHONY: static-linux_amd64 static-linux_arm64

# ---- release archives ------------------------------------------------------
#
# In the layout the Terraform Registry publishes (and HashiCorp's release
# tooling writes): per platform terraform-provider-cellrouter_V_OS_ARCH.zip
# holding terraform-provider-cellrouter_vV, the manifest (protocol 6.0), and
# SHA256SUMS over everything, signed when GPG_KEY names a secret key. The
# operator tools go in their own zip per platform (cellrouter_V_OS_ARCH.zip:
# cellctl, cellgen), listed in the same SHA256SUMS. Entries carry the time of
# the last commit (SOURCE_DATE_EPOCH), so a rebuild gives the same archives.

DIST          ?= dist
REL_PLATFORMS := linux_amd64 linux_arm64
REL_TOOL      := $(BUILD)/crrelease
REL_GOENV     := GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
                 GOPATH=/usr/share/gocode GOCACHE=$(CURDIR)/$(BUILD)/gocache
REL_EPOCH     := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)
REL_PREFIX    := $(DIST)/terraform-provider-cellrouter_$(REL_VERSION)
REL_ZIPS      := $(foreach p,$(REL_PLATFORMS),$(REL_PREFIX)_$(p).zip)
REL_TOOL_ZIPS := $(foreach p,$(REL_PLATFORMS),$(DIST)/cellrouter_$(REL_VERSION)_$(p).zip)
REL_MANIFEST  := $(REL_PREFIX)_manifest.json
REL_SUMS      := $(REL_PREFIX)_SHA256SUMS

$(REL_TOOL): release/crrelease/main.go | $(DEPS_STAMP)
	$(REL_GOENV) $(GO) build -o $@ ./release/crrelease

# rel_platform P: the two zips of platform P.
define rel_platform
$(REL_PREFIX)_$(1).zip: $(REL_BIN_$(1))/terraform-provider-cellrouter $(REL_TOOL)
	@mkdir -p $$(@D)
	$(REL_TOOL) zip -o $$@ -epoch $(REL_EPOCH) terraform-provider-cellrouter_v$(REL_VERSION)=$$<
$(DIST)/cellrouter_$(REL_VERSION)_$(1).zip: $(REL_BIN_$(1))/cellctl $(REL_BIN_$(1))/cellgen $(REL_TOOL)
	@mkdir -p $$(@D)
	$(REL_TOOL) zip -o $$@ -epoch $(REL_EPOCH) cellctl=$$(word 1,$$^) cellgen=$$(word 2,$$^)
endef
$(foreach p,$(REL_PLATFORMS),$(eval $(call rel_platform,$(p))))

$(REL_MANIFEST): release/terraform-registry-manifest.json
	@mkdir -p $(@D)
	cp $< $@
$(REL_SUMS): $(REL_ZIPS) $(REL_TOOL_ZIPS) $(REL_MANIFEST)
	cd $(@D) && sha256sum $(sort $(notdir $^)) >$(notdir $@).tmp && mv $(notdir $@).tmp $(notdir $@)
	@rm -f $@.sig

release-files: $(REL_SUMS)
ifneq ($(GPG_KEY),)
	gpg --batch --yes --local-user '$(GPG_KEY)' --detach-sign --output $(REL_SUMS).sig $(REL_SUMS)
endif
	@cd $(DIST) && ls -l $(notdir $(REL_ZIPS) $(REL_TOOL_ZIPS) $(REL_MANIFEST) $(REL_SUMS)) \
	  $(if $(GPG_KEY),$(notdir $(REL_SUMS)).sig)

release: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD) $(addprefix static-,$(REL_PLATFORMS)) $(REL_TOOL)
	@$(MAKE) --no-print-directory BUILD=$(BUILD) release-files
dist: release
.PHONY: release release-files dist

# ---- mirrors ----------------------------------------------------------------
#
# MIRROR/registry.terraform.io/cellrouter/cellrouter/ then holds the zips
# (a packed filesystem mirror) and index.json + V.json (a network mirror:
# serve MIRROR from any static HTTPS server). MIRROR is the same variable
# as make install's, but defaults to dist/mirror here.

REL_MIRROR = $(if $(filter command line environment override,$(origin MIRROR)),$(MIRROR),$(DIST)/mirror)
mirror: release
	$(REL_TOOL) mirror -dist $(DIST) -version $(REL_VERSION) -out $(REL_MIRROR)
	@echo "mirror in $(REL_MIRROR)"
.PHONY: mirror

# ---- registry docs ----------------------------------------------------------
#
# release/docgen.c asks the provider itself for its schema (the handler of
# GetProviderSchema, in process) and writes docs/ in the Registry's layout,
# with the examples under examples/ (release/README.md).

DOCGEN := $(BUILD)/docgen
$(BUILD)/release/docgen.o: $(PROTO_H)
$(DOCGEN): $(BUILD)/release/docgen.o $(LIBCR)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

DOCS ?= docs
docs: $(DOCGEN)
	@rm -rf $(BUILD)/docs-new
	$(DOCGEN) -provider cellrouter -examples examples -o $(BUILD)/docs-new
	@rm -rf $(DOCS) && cp -r $(BUILD)/docs-new $(DOCS)
check-docs: $(DOCGEN)
	@rm -rf $(BUILD)/docs-check
	@$(DOCGEN) -provider cellrouter -examples examples -o $(BUILD)/docs-check
	@diff -ru $(DOCS) $(BUILD)/docs-check || \
	  { echo "check-docs: $(DOCS)/ is stale: run make docs and commit it" >&2; exit 1; }
	@echo "== $(DOCS)/ is current ($$(find $(DOCS) -name '*.md' | wc -l) pages)"
.PHONY: docs check-docs

# ---- tests --------------------------------------------------------------------

# The examples through tfcore (and a real terraform when there is one), the
# import commands, docgen's refusals (tests/release/docs.sh).
test-docs: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN) $(DOCGEN)
	@BUILD=$(BUILD) MAKE="$(MAKE)" bash tests/release/docs.sh
.PHONY: test-docs

test-release: $(TFCORE_BIN) $(PROVIDER_BIN) $(CELLCTL_BIN)
	@$(MAKE) --no-print-directory BUILD=$(BUILD) release
	@BUILD=$(BUILD) DIST=$(DIST) OPENSSL_amd64=$(OPENSSL_AMD64) \
	  OPENSSL_arm64=$(OPENSSL_ARM64) bash tests/release/chroot.sh
	@BUILD=$(BUILD) DIST=$(DIST) MAKE="$(MAKE)" bash tests/release/archives.sh
.PHONY: test-release

ifneq ($(SAN),1)
TEST_STEPS += check-docs test-docs test-release
endif
