#!/usr/bin/env bash
# scripts/deps.sh — installs everything cellrouter needs to build, test and
# demo on a fresh Debian 12 machine. Idempotent: when every package is present
# it prints nothing and exits at once, so the Makefile can run it before every
# build. Debian packages only (plus the npm packages named in package.json
# files under tests/, installed from their lockfiles).
set -euo pipefail

PKGS=(
  build-essential pkg-config git
  libgrpc-dev protobuf-compiler
  libprotobuf-c-dev protobuf-c-compiler
  libmsgpack-dev libyaml-dev libjansson-dev libyajl-dev
  libssl-dev openssl libsqlite3-dev sqlite3 libcurl4-openssl-dev
  libcmocka-dev valgrind
  jq curl patch diffutils        # used by the end-to-end and generator test scripts
  xz-utils unzip                 # Debian's .debian.tar.xz (scripts/debsrc.sh); the release zips (tests/release)
  time                           # GNU time: CPU and memory of Terraform runs (bench/fleet.sh)
  golang-go protoc-gen-go protoc-gen-go-grpc
  golang-google-grpc-dev golang-google-protobuf-dev
  golang-github-hashicorp-go-plugin-dev golang-github-hashicorp-go-hclog-dev
  golang-github-zclconf-go-cty-dev golang-github-hashicorp-hcl-v2-dev
  # make release (release/release.mk): the arm64 cross toolchain and qemu to
  # test its output, autotools for libcurl built from Debian's source
  # package (scripts/build-curl.sh), Perl for OpenSSL's Configure
  # (scripts/build-openssl.sh), x/mod's dirhash for the mirror's h1:
  # hashes, gnupg to sign the checksums
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
  autoconf automake libtool perl golang-golang-x-mod-dev gnupg
  )
# Node.js and npm: this image may carry its own; take Debian's only when absent.
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt run (a parallel build, unattended upgrades) may hold dpkg's
  # lock: wait for it rather than fail.
  APT=(apt-get -o DPkg::Lock::Timeout=600)
  $SUDO "${APT[@]}" update -qq
  $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages used by tests (pinned by lockfiles); installed only when absent.
for dir in tests/gen/cdktf tests/gen/ci tests/edge; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ] && command -v npm >/dev/null; then
    echo "deps: npm ci in $dir" >&2
    # Only some test steps need these (make gen-schemas, make
    # check-ci-schemas, make test-edge),
    # so a failed install (no registry access) must not stop the build;
    # the step that needs them says so. A partial node_modules would hide
    # the failure next time.
    if ! (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null); then
      echo "deps: npm ci in $dir failed; the test steps that need it will report it" >&2
      rm -rf "$dir/node_modules"
    fi
  fi
done
exit 0
