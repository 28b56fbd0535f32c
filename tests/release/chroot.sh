#!/usr/bin/env bash
# tests/release/chroot.sh — the release's static executables, taken from the
# release archives in dist/, run in an otherwise empty root directory
# (chroot), for linux_amd64 and for linux_arm64 (under qemu-user-static,
# copied into the root: no binfmt registration is needed).
#
#   BUILD=build DIST=dist OPENSSL_amd64=DIR OPENSSL_arm64=DIR \
#     bash tests/release/chroot.sh [TEST...]
#   (make test-release runs it after make release)
#
# Per architecture: the programs report VERSION; the provider, launched by
# tfcore (the end-to-end harness) through the chroot, completes the
# AutoMTLS handshake and refuses foreign client certificates; an apply,
# plan, drift and destroy on SQLite; a cellctl round trip on SQLite; cellctl
# and the provider against the local Workers KV API stand-in, over HTTPS to a
# name from the root's /etc/hosts (and, as root, from a DNS server named in
# its /etc/resolv.conf), trusting a throw-away CA from each distribution's
# usual bundle location, SSL_CERT_FILE or SSL_CERT_DIR, and refusing it when
# absent; cellgen --check on the checked-in example.
#
# The root holds only the three executables (and qemu), /etc/hosts, /data
# and /tmp. The provider's socket must be reachable from outside too: its
# directory is the same path inside and out (a symlink outside the root
# points into it). Run as root, or as a user allowed to create user
# namespaces (unshare -r). The last line is "chroot: N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/release/lib.sh"
TFCORE=$B/tfcore
ARCHES=${ARCHES:-amd64 arm64}
QEMU=${QEMU:-/usr/bin/qemu-aarch64-static}

[ -x "$TFCORE" ] || { echo "chroot: $TFCORE is missing"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  CHROOT=(chroot)
elif unshare -r true 2>/dev/null; then
  CHROOT=(unshare -r chroot)
else
  echo "chroot: needs root or unprivileged user namespaces (unshare -r)"; exit 1
fi

# Short paths: a unix socket path has at most 107 bytes.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/crchroot.XXXXXX")
export TFCORE_PROVIDER_STDERR=/dev/null
unset TF_REATTACH_PROVIDERS CELLROUTER_DB TF_LOG TF_LOG_PROVIDER SSL_CERT_FILE SSL_CERT_DIR
unset CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID CLOUDFLARE_KV_NAMESPACE_ID CLOUDFLARE_API_URL
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done' EXIT

# ---- the roots ----------------------------------------------------------------

# make_root ARCH: $WORK/ARCH/root from the release zips of ARCH.
make_root() {
  local arch=$1 r=$WORK/$1/root
  mkdir -p "$r/data" "$r/tmp" "$r/etc"
  chmod 1777 "$r/tmp"
  unzip -q -o "$D/terraform-provider-cellrouter_${VERSION}_linux_${arch}.zip" -d "$r" &&
  unzip -q -o "$D/cellrouter_${VERSION}_linux_${arch}.zip" -d "$r" || return 1
  mv "$r/terraform-provider-cellrouter_v$VERSION" "$r/terraform-provider-cellrouter"
  printf '127.0.0.1 localhost\n127.0.0.1 kv.cellrouter.test\n' >"$r/etc/hosts"
  if [ "$arch" != amd64 ]; then
    [ -x "$QEMU" ] || { echo "chroot: $QEMU is missing (scripts/deps.sh installs qemu-user-static)"; return 1; }
    cp "$QEMU" "$r/qemu"
  fi
  # The socket directory: $S inside the root is $r$S outside; $S outside
  # is a symlink to it, so the path in the handshake works from both sides.
  local s=$WORK/$arch/sock
  mkdir -p "$r$s"
  ln -s "$r$s" "$s"
  # The provider as Terraform (tfcore) launches it: through the chroot.
  cat >"$WORK/$arch/provider" <<EOF
#!/bin/sh
PLUGIN_UNIX_SOCKET_DIR=$s exec ${CHROOT[*]} $r $( [ "$arch" = amd64 ] || echo /qemu ) /terraform-provider-cellrouter "\$@"
EOF
  chmod +x "$WORK/$arch/provider"
}

# in_root CMD ARGS...: a program of the root, run inside it.
in_root() {
  local q=()
  [ "$ARCH" = amd64 ] || q=(/qemu)
  "${CHROOT[@]}" "$R" "${q[@]}" "/$@"
}

for arch in $ARCHES; do
  make_root "$arch" || { echo "chroot: cannot make the $arch root (make release first)"; exit 1; }
done

# ---- the Workers KV API stand-in, behind HTTPS --------------------------------

KV=0
if command -v node >/dev/null && [ -d "$ROOT/tests/edge/node_modules/miniflare" ]; then
  TOKEN="chroot-test-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  EDGE_TEST_TOKEN=$TOKEN node "$ROOT/tests/edge/harness.mjs" \
    --router "$ROOT/examples/multicloud/edge/worker.js" --cells cell-a \
    --ready "$WORK/edge.json" --watch-pid $$ </dev/null >"$WORK/edge.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 600); do
    [ -s "$WORK/edge.json" ] && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$WORK/edge.json" ] || { cat "$WORK/edge.log"; echo "chroot: the KV API stand-in did not start"; exit 1; }
  API_URL=$(jq -r .api_url "$WORK/edge.json")
  ACCOUNT=$(jq -r .account_id "$WORK/edge.json")
  NAMESPACE=$(jq -r .namespace_id "$WORK/edge.json")
  make_ca "$WORK/tls" kv.cellrouter.test kv-dns.cellrouter.test || exit 1
  # As root, also a DNS server (on a loopback address of its own) that
  # knows kv-dns.cellrouter.test, for the root's /etc/resolv.conf.
  DNS_ADDR=""
  dns_args=()
  if [ "$(id -u)" -eq 0 ]; then
    DNS_ADDR=127.0.0.153
    dns_args=(--dns "$DNS_ADDR" --dns-name kv-dns.cellrouter.test)
  fi
  start_https "$WORK/tls" --proxy "${API_URL%/client/v4}" "${dns_args[@]}" || exit 1
  PIDS+=("$HTTPS_PID")
  TLS_URL="https://kv.cellrouter.test:$HTTPS_PORT/client/v4"
  KV=1
else
  echo "chroot: Node.js or tests/edge's npm packages are missing: the Workers KV tests are skipped"
fi

# ---- tests (ARCH and R are set per architecture) --------------------------------

provider_env() { export TFCORE_PROVIDER=$WORK/$ARCH/provider; }
tf() {
  local c=$1; shift
  provider_env
  run "$TFCORE" -chdir="$T/cfg" "$c" -state="$T/terraform.tfstate" "$@"
}
# config BODY: the configuration, provider block first (stdin: the rest).
config() {
  mkdir -p "$T/cfg"
  { printf '%s\n\n' "$1"; cat; } >"$T/cfg/main.tf"
  echo "--- main.tf"; sed 's/^/  : /' "$T/cfg/main.tf"
}
cellctl_kv() {   # cellctl on the KV namespace at $URL
  CLOUDFLARE_ACCOUNT_ID=$ACCOUNT CLOUDFLARE_KV_NAMESPACE_ID=$NAMESPACE CLOUDFLARE_API_URL=$URL \
    CLOUDFLARE_API_TOKEN=$TOKEN run in_root cellctl --backend cloudflare_kv "$@"
}
# ca_at PATH: the test CA as the root's only trusted bundle, at PATH.
ca_at() {
  rm -rf "$R/etc/ssl" "$R/etc/pki" "$R/custom"
  mkdir -p "$R$(dirname "$1")"
  cp "$WORK/tls/ca.pem" "$R$1"
}
need_kv() { [ $KV = 1 ] || { echo "SKIP: no KV API stand-in (Node.js and tests/edge/node_modules)"; exit "$CR_SKIP"; }; }

c_versions() {
  run in_root cellctl --version;  expect_rc 0; eq "$(cat "$T/out")" "cellctl $VERSION" cellctl
  run in_root cellgen --version;  expect_rc 0; eq "$(cat "$T/out")" "cellgen $VERSION" cellgen
  run in_root terraform-provider-cellrouter -version; expect_rc 0
  eq "$(cat "$T/out")" "terraform-provider-cellrouter $VERSION" provider
  local f
  for f in terraform-provider-cellrouter cellctl cellgen; do
    readelf -d "$R/$f" 2>&1 | grep -q 'There is no dynamic section' || fail "$f has a dynamic section"
    readelf -lW "$R/$f" | grep -q INTERP && fail "$f asks for an interpreter"
    readelf -h "$R/$f" | grep -q "Machine: *$([ "$ARCH" = amd64 ] && echo 'Advanced Micro Devices X86-64' || echo AArch64)" ||
      fail "$f is not built for $ARCH"
  done
  # The root holds nothing else (no libraries, no loader).
  eq "$(cd "$R" && find . -type f -o -type l | grep -v -e '^./data/' -e '^./tmp/' -e "^./${WORK#/}" | sort | tr '\n' ' ')" \
     "$( { [ "$ARCH" = amd64 ] || echo ./qemu; printf '%s\n' ./cellctl ./cellgen ./etc/hosts ./terraform-provider-cellrouter; } | sort | tr '\n' ' ')" "files in the root"
}

c_mtls() {
  provider_env
  run "$TFCORE" check-mtls
  expect_rc 0
  out_has "client with a different client certificate is refused"
  out_has "client with no client certificate is refused"
  out_lacks "FAIL:"
  # The start-up log line names the version, and the OpenSSL linked in is
  # the one scripts/build-openssl.sh built for this architecture, not
  # Debian 12's libcrypto.a.
  provider_env
  TF_LOG_PROVIDER=INFO TFCORE_PROVIDER_STDERR=$T/provider.log run "$TFCORE" schema
  expect_rc 0
  grep -q '"@message":"starting".*"version":"'"$VERSION"'"' "$T/provider.log" || fail "no start-up line with the version"
  # OPENSSL_amd64 and OPENSSL_arm64: release.mk's OpenSSL directories.
  local dir_var=OPENSSL_$ARCH
  local ossl_pc=${!dir_var:?"no $dir_var (release.mk passes it)"}/lib/pkgconfig/libcrypto.pc
  local ossl_version
  ossl_version=$(sed -n 's/^Version: //p' "$ossl_pc")
  [ -n "$ossl_version" ] || fail "no OpenSSL build at $ossl_pc"
  grep -q '"@message":"starting".*"openssl":"'"$ossl_version"'"' "$T/provider.log" ||
    fail "the provider does not run on the OpenSSL $ossl_version built for the release"
}

c_apply() {
  config 'provider "cellrouter" {
  path = "/data/'"$ARCH"'-apply.db"
}' <<'EOF'
resource "cellrouter_tenant" "acme" {
  tenant_id        = "acme"
  cell_id          = "aws-alpha"
  endpoint         = "https://alpha.example.com/ingest"
  standby_cell_id  = "azure-beta"
  standby_endpoint = "https://beta.example.com/ingest"
}

resource "cellrouter_tenants" "fleet" {
  name = "fleet"
  tenants = {
    globex  = { cell_id = "azure-beta", endpoint = "https://beta.example.com/ingest" }
    initech = { cell_id = "aws-alpha", endpoint = "https://alpha.example.com/ingest", labels = { tier = "gold" } }
  }
}
EOF
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
  tf plan -detailed-exitcode
  expect_rc 0
  run in_root cellctl --db "/data/$ARCH-apply.db" failover acme
  expect_rc 0
  tf plan -detailed-exitcode
  expect_rc 2
  out_has "Plan: 0 to add, 1 to change, 0 to destroy."
  tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
  run in_root cellctl --db "/data/$ARCH-apply.db" get acme --json
  eq "$(jq -r .cell_id "$T/out")" aws-alpha "acme's cell after the apply"
  tf destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 2 destroyed."
  run in_root cellctl --db "/data/$ARCH-apply.db" list --json
  eq "$(jq length "$T/out")" 0 "entries after destroy"
}

c_cellctl_sqlite() {
  local db=/data/$ARCH-cellctl.db
  run in_root cellctl --db $db set acme --cell c1 --endpoint https://c1.example.com --label tier=gold
  expect_rc 0; out_has "acme: created on cell c1, version 1"
  run in_root cellctl --db $db set acme --cell c2 --endpoint https://c2.example.com --expect-version 7
  expect_rc 3
  run in_root cellctl --db $db get acme --json
  expect_rc 0; eq "$(jq -r '.labels.tier' "$T/out")" gold label
  run in_root cellctl --db $db delete acme --expect-version 1
  expect_rc 0
  run in_root cellctl --db $db get acme
  expect_rc 4
}

c_cellctl_kv() {
  need_kv
  URL=$API_URL     # the stand-in itself, plain HTTP on 127.0.0.1
  local id="kv-$ARCH-plain"
  cellctl_kv set "$id" --cell c1 --endpoint https://c1.example.com
  expect_rc 0; out_has "$id: created on cell c1, version 1"
  cellctl_kv get "$id" --json
  expect_rc 0; eq "$(jq -r .cell_id "$T/out")" c1 cell
  cellctl_kv delete "$id"
  expect_rc 0
  cellctl_kv get "$id"
  expect_rc 4
}

# HTTPS through a name in /etc/hosts, the CA where each distribution keeps it.
c_kv_https() {
  need_kv
  URL=$TLS_URL
  local id="kv-$ARCH-tls" path
  for path in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt \
              /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem /etc/ssl/cert.pem; do
    ca_at "$path"
    cellctl_kv set "$id" --cell c1 --endpoint https://c1.example.com
    expect_rc 0
    cellctl_kv delete "$id"
    expect_rc 0
  done
  # A bundle without the test CA, then none at all: refused (through the
  # provider, whose retry budget can be cut to a second; cellctl's is 30 s).
  kv_config "$TLS_URL"
  make_ca "$T/other" other.test || fail "make_ca"
  ca_at /etc/ssl/certs/ca-certificates.crt
  cp "$T/other/ca.pem" "$R/etc/ssl/certs/ca-certificates.crt"
  CLOUDFLARE_API_TOKEN=$TOKEN tf plan
  expect_rc 1
  grep -q "SSL certificate problem: unable to get local issuer certificate" "$T/err" ||
    fail "the unknown CA is not named as the problem"
  ca_at /custom/ca.pem
  CLOUDFLARE_API_TOKEN=$TOKEN tf plan
  expect_rc 1
  grep -q "error setting certificate file" "$T/err" || fail "no word of the missing bundle"
  # SSL_CERT_FILE and SSL_CERT_DIR (hashed, as openssl rehash makes it).
  SSL_CERT_FILE=/custom/ca.pem cellctl_kv list
  expect_rc 0
  mkdir -p "$R/custom/certs" && cp "$WORK/tls/ca.pem" "$R/custom/certs/test-ca.pem" &&
    openssl rehash "$R/custom/certs" || fail "openssl rehash"
  SSL_CERT_DIR=/custom/certs cellctl_kv list
  expect_rc 0
}

# kv_config URL: one tenant on the KV namespace at URL, retrying for 1 s.
kv_config() {
  config 'provider "cellrouter" {
  cloudflare_kv {
    account_id        = "'"$ACCOUNT"'"
    namespace_id      = "'"$NAMESPACE"'"
    api_url           = "'"$1"'"
    max_retry_seconds = 1
  }
}' <<EOF
resource "cellrouter_tenant" "t" {
  tenant_id = "kv-$ARCH-provider"
  cell_id   = "aws-alpha"
  endpoint  = "https://alpha.example.com/ingest"
}
EOF
}

# The provider itself over HTTPS to the stand-in, the name from /etc/hosts.
c_provider_kv() {
  need_kv
  ca_at /etc/ssl/certs/ca-certificates.crt
  kv_config "$TLS_URL"
  CLOUDFLARE_API_TOKEN=$TOKEN tf apply -auto-approve
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  URL=$TLS_URL
  cellctl_kv get "kv-$ARCH-provider" --json
  expect_rc 0; eq "$(jq -r .cell_id "$T/out")" aws-alpha cell
  CLOUDFLARE_API_TOKEN=$TOKEN tf destroy -auto-approve
  expect_rc 0
  out_has "Destroy complete! Resources: 1 destroyed."
}

# A name only the DNS server named in /etc/resolv.conf knows (as root).
c_kv_dns() {
  need_kv
  [ -n "$DNS_ADDR" ] || { echo "skipped: a DNS server on port 53 needs root"; return 0; }
  ca_at /etc/ssl/certs/ca-certificates.crt
  printf 'nameserver %s\n' "$DNS_ADDR" >"$R/etc/resolv.conf"
  URL="https://kv-dns.cellrouter.test:$HTTPS_PORT/client/v4"
  cellctl_kv list
  rm -f "$R/etc/resolv.conf"
  expect_rc 0
  # A name it does not know: the provider says so (retrying for 1 s).
  printf 'nameserver %s\n' "$DNS_ADDR" >"$R/etc/resolv.conf"
  kv_config "https://kv-nowhere.cellrouter.test:$HTTPS_PORT/client/v4"
  CLOUDFLARE_API_TOKEN=$TOKEN tf plan
  rm -f "$R/etc/resolv.conf"
  expect_rc 1
  grep -q "resolve" "$T/out" "$T/err" || fail "no word of the name resolution"
}

c_cellgen() {
  # The generated pipeline repeats cellgen's paths relative to the working
  # directory (the repository's top, where CI runs it), and chroot starts in
  # the root: so the example goes at the root, and the paths are relative.
  rm -rf "$R/examples" "$R/modules"
  mkdir -p "$R/examples"
  cp -r "$ROOT/modules" "$R/modules"
  cp -r "$ROOT/examples/multicloud" "$R/examples/multicloud"
  cp "$ROOT/examples/cellspec.yaml" "$R/examples/"
  run in_root cellgen --check -o examples/multicloud --modules-dir modules examples/cellspec.yaml
  expect_rc 0
  echo "# stale" >>"$R/modules/aws_event_cell/variables.tf"
  run in_root cellgen --check -o examples/multicloud --modules-dir modules examples/cellspec.yaml
  expect_rc 1
  out_has "+++ b/modules/aws_event_cell/variables.tf"
  rm -rf "$R/examples" "$R/modules"
}

CASES="versions mtls apply cellctl_sqlite cellctl_kv kv_https provider_kv kv_dns cellgen"
for arch in $ARCHES; do
  for c in $CASES; do
    eval "t_${c}_$arch() { ARCH=$arch; R=\$WORK/$arch/root; c_$c; }"
  done
done
DEFAULT_TESTS=$(for arch in $ARCHES; do for c in $CASES; do printf '%s_%s ' "$c" "$arch"; done; done)
TESTS=${*:-$DEFAULT_TESTS}
. "$ROOT/tests/lib/runner.sh"
cr_run_tests chroot
