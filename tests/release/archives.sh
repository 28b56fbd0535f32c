#!/usr/bin/env bash
# tests/release/archives.sh — the release archives, their hashes and
# signature, the mirrors, and make install, checked the way Terraform and
# its registry read them.
#
#   BUILD=build DIST=dist bash tests/release/archives.sh [TEST...]
#   (make test-release runs it after make release)
#
# - dist/ holds exactly the registry's files; the zips hold what they
#   should with mode 0755; SHA256SUMS verifies; a rebuild is byte-identical;
# - with GPG_KEY (a throw-away RSA key made here), the detached signature of
#   SHA256SUMS verifies, and fails on an altered file;
# - h1: hashes equal known values: a fixed fixture's (a literal, and one
#   computed with coreutils from the unpacked files), and each release zip's
#   (coreutils again);
# - make mirror lays out the packed filesystem mirror and the network
#   mirror's index.json (every version mirrored) and <version>.json (h1: and
#   zh: per platform);
# - with a real Terraform (/usr/local/bin/terraform or TERRAFORM=...):
#   `terraform providers lock` against the packed mirror and against the
#   network mirror served over HTTPS with a throw-away CA (SSL_CERT_FILE)
#   records exactly our h1: hashes for both platforms; terraform init from each
#   installs the static provider, which then applies; a wrong h1: is refused;
# - make install's unpacked layout, used by terraform init.
# The last line is "archives: N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/release/lib.sh"
MAKE=${MAKE:-make}
TOOL=$B/crrelease
NAME=terraform-provider-cellrouter
ADDR=registry.terraform.io/cellrouter/cellrouter
PLATFORMS="linux_amd64 linux_arm64"

for f in "$TOOL" "$D/${NAME}_${VERSION}_SHA256SUMS"; do
  [ -e "$f" ] || { echo "archives: $f is missing (make release first)"; exit 1; }
done
mkdir -p "$B/release-tests"
WORK=$(mktemp -d "$B/release-tests/archives.XXXXXX")
export CHECKPOINT_DISABLE=1
unset TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR TF_LOG SSL_CERT_FILE SSL_CERT_DIR CELLROUTER_DB

mk() { ${MAKE} --no-print-directory -C "$ROOT" BUILD="$BUILD" "$@"; }
# h1_of_dir DIR: Terraform's h1: of a directory's files, with coreutils only
# (dirhash Hash1: "<sha256 hex>  <name>\n" per file, sorted by name, then
# the base64 SHA-256 of that summary).
h1_of_dir() {
  (cd "$1" && find . -type f | sed 's:^\./::' | LC_ALL=C sort | while IFS= read -r f; do
     printf '%s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
   done) | openssl dgst -sha256 -binary | openssl base64 -A | sed 's/^/h1:/'
}
# h1_of_zip ZIP: the same, of the zip's unpacked contents.
h1_of_zip() {
  local dir
  dir=$(mktemp -d "$T/unzip.XXXXXX")
  unzip -q "$1" -d "$dir" && h1_of_dir "$dir" && echo
}
zh_of() { echo "zh:$(sha256sum <"$1" | cut -d' ' -f1)"; }
mirror_json() { echo "$1/$ADDR/$VERSION.json"; }

# ---- the archives --------------------------------------------------------------

t_archives() {
  local want have p
  want=$( { for p in $PLATFORMS; do echo "${NAME}_${VERSION}_$p.zip"; echo "cellrouter_${VERSION}_$p.zip"; done
            echo "${NAME}_${VERSION}_SHA256SUMS"; echo "${NAME}_${VERSION}_manifest.json"; } | sort)
  have=$(cd "$D" && ls | grep -F "_${VERSION}_" | grep -v '\.sig$' | sort)
  eq "$have" "$want" "dist/ files"
  for p in $PLATFORMS; do
    run unzip -Z1 "$D/${NAME}_${VERSION}_$p.zip"
    eq "$(cat "$T/out")" "${NAME}_v$VERSION" "entries of the $p provider zip"
    run unzip -Z "$D/${NAME}_${VERSION}_$p.zip"
    out_has "-rwxr-xr-x"
    run unzip -Z1 "$D/cellrouter_${VERSION}_$p.zip"
    eq "$(tr '\n' ' ' <"$T/out")" "cellctl cellgen " "entries of the $p tools zip"
  done
  eq "$(jq -c . "$D/${NAME}_${VERSION}_manifest.json")" \
     '{"version":1,"metadata":{"protocol_versions":["6.0"]}}' manifest
  run sh -c "cd '$D' && sha256sum -c '${NAME}_${VERSION}_SHA256SUMS'"
  expect_rc 0
  eq "$(wc -l <"$D/${NAME}_${VERSION}_SHA256SUMS")" 5 "lines of SHA256SUMS"
  # Reproducible: the same binaries at the same commit give the same bytes,
  # whenever they are packed.
  run mk DIST="$T/dist1" release-files
  expect_rc 0
  sleep 1
  run mk DIST="$T/dist2" release-files
  expect_rc 0
  for f in $want; do
    cmp -s "$T/dist1/$f" "$T/dist2/$f" || fail "$f differs when rebuilt"
  done
}

t_signature() {
  command -v gpg >/dev/null || fail "gpg is missing (scripts/deps.sh installs gnupg)"
  # Short: gpg-agent's socket lives in it.
  export GNUPGHOME
  GNUPGHOME=$(mktemp -d "${TMPDIR:-/tmp}/crgpg.XXXXXX")
  trap 'gpgconf --kill gpg-agent 2>/dev/null; rm -rf "$GNUPGHOME"' EXIT
  run gpg --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "cellrouter release test <release-test@cellrouter.invalid>" rsa2048 sign 1d
  expect_rc 0
  local fpr
  fpr=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ { print $10; exit }')
  [ -n "$fpr" ] || fail "no key made"
  run mk DIST="$T/dist" GPG_KEY="$fpr" release-files
  expect_rc 0
  local sums=$T/dist/${NAME}_${VERSION}_SHA256SUMS
  [ -s "$sums.sig" ] || fail "no signature"
  run gpg --batch --status-fd 1 --verify "$sums.sig" "$sums"
  expect_rc 0
  out_has "[GNUPG:] VALIDSIG $fpr"
  # The registry takes RSA (or DSA) keys only.
  gpg --batch --with-colons --list-keys "$fpr" | grep -q '^pub:[^:]*:2048:1:' || fail "not an RSA key"
  echo "0000000000000000000000000000000000000000000000000000000000000000  extra.zip" >>"$sums"
  run gpg --batch --verify "$sums.sig" "$sums"
  [ "$RC" -ne 0 ] || fail "an altered SHA256SUMS still verifies"
}

# ---- hashes ----------------------------------------------------------------------

t_h1_known_values() {
  mkdir -p "$T/fx/b"
  printf 'one\n' >"$T/fx/a-one"
  printf 'two\n' >"$T/fx/b/two"
  run "$TOOL" zip -o "$T/fx.zip" -epoch 0 b/two="$T/fx/b/two" a-one="$T/fx/a-one"
  expect_rc 0
  run "$TOOL" hash "$T/fx.zip"
  expect_rc 0
  # Frozen: dirhash.Hash1 of {a-one: "one\n", b/two: "two\n"}.
  eq "$(cut -d' ' -f1 "$T/out")" "h1:4ct5ZnhOmCulPyzyP71e1utA5kHc2fsrai13QloKHXg=" "fixture h1"
  eq "$(h1_of_dir "$T/fx")" "h1:4ct5ZnhOmCulPyzyP71e1utA5kHc2fsrai13QloKHXg=" "fixture h1 by coreutils"
  local p z
  for p in $PLATFORMS; do
    z=$D/${NAME}_${VERSION}_$p.zip
    run "$TOOL" hash "$z"
    eq "$(cut -d' ' -f1 "$T/out")" "$(h1_of_zip "$z")" "h1 of the $p zip"
  done
}

t_mirror() {
  run mk DIST="$DIST" MIRROR="$T/m" mirror
  expect_rc 0
  local dir=$T/m/$ADDR p z
  eq "$(jq -c . "$dir/index.json")" "{\"versions\":{\"$VERSION\":{}}}" index.json
  for p in $PLATFORMS; do
    z=${NAME}_${VERSION}_$p.zip
    cmp -s "$D/$z" "$dir/$z" || fail "$z is not the release's"
    eq "$(jq -r --arg p "$p" '.archives[$p].url' "$(mirror_json "$T/m")")" "$z" "$p url"
    eq "$(jq -c --arg p "$p" '.archives[$p].hashes' "$(mirror_json "$T/m")")" \
       "[\"$(h1_of_zip "$dir/$z")\",\"$(zh_of "$dir/$z")\"]" "$p hashes"
    grep -qx "$(zh_of "$dir/$z" | cut -c4-)  $z" "$D/${NAME}_${VERSION}_SHA256SUMS" ||
      fail "zh: of $p is not SHA256SUMS' value"
  done
  eq "$(jq -r '.archives | keys | join(" ")' "$(mirror_json "$T/m")")" "$PLATFORMS" platforms
  # A second version into the same mirror: index.json lists both.
  mkdir -p "$T/d2"
  for p in $PLATFORMS; do cp "$D/${NAME}_${VERSION}_$p.zip" "$T/d2/${NAME}_0.0.1_$p.zip"; done
  run "$TOOL" mirror -dist "$T/d2" -version 0.0.1 -out "$T/m"
  expect_rc 0
  eq "$(jq -c '.versions | keys' "$dir/index.json")" "[\"0.0.1\",\"$VERSION\"]" "versions after a second release"
}

# ---- with the real Terraform -----------------------------------------------------

need_terraform() {
  have_terraform || { echo "skipped: no terraform at $TERRAFORM"; exit 0; }
}
# tf_config: $T/cfg with the provider pinned to VERSION and one tenant.
tf_config() {
  mkdir -p "$T/cfg"
  cat >"$T/cfg/main.tf" <<EOF
terraform {
  required_providers {
    cellrouter = {
      source  = "cellrouter/cellrouter"
      version = "$VERSION"
    }
  }
}

provider "cellrouter" {
  path = "routing.db"
}

resource "cellrouter_tenant" "acme" {
  tenant_id = "acme"
  cell_id   = "aws-alpha"
  endpoint  = "https://alpha.example.com/ingest"
}
EOF
}
# cli_config BLOCK: a CLI configuration with this provider_installation.
cli_config() {
  printf 'provider_installation {\n%s\n  direct {\n    exclude = ["%s"]\n  }\n}\n' "$1" "$ADDR" >"$T/tfrc"
  export TF_CLI_CONFIG_FILE=$T/tfrc
}
tf() { run "$TERRAFORM" -chdir="$T/cfg" "$@"; }
# lock_hashes: the hashes the lock file records, sorted, one line.
lock_hashes() { grep -o '"\(h1\|zh\):[^"]*"' "$T/cfg/.terraform.lock.hcl" | tr -d '"' | sort | tr '\n' ' '; }
our_hashes() {  # MIRROR [h1|all]
  local p z
  for p in $PLATFORMS; do
    z=$1/$ADDR/${NAME}_${VERSION}_$p.zip
    h1_of_zip "$z"
    [ "${2:-all}" = h1 ] || zh_of "$z"
  done | sort | tr '\n' ' '
}
# init_from_filesystem_mirror DIR: terraform init of tf_config from DIR.
init_from_filesystem_mirror() {
  tf_config
  cli_config "  filesystem_mirror {
    path    = \"$1\"
    include = [\"$ADDR\"]
  }"
  tf init -no-color
  expect_rc 0
  out_has "Installing cellrouter/cellrouter v$VERSION..."
}
apply_with_installed() {
  tf apply -auto-approve -no-color
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  # The provider Terraform ran is the release's static one.
  local bin
  bin=$(find "$T/cfg/.terraform/providers/$ADDR/$VERSION/linux_amd64" -type f -name "${NAME}_v*")
  readelf -d "$bin" | grep -q 'There is no dynamic section' || fail "terraform installed a dynamic provider"
}

t_terraform_filesystem_mirror() {
  need_terraform
  mk DIST="$DIST" MIRROR="$T/m" mirror >/dev/null || fail "make mirror"
  init_from_filesystem_mirror "$T/m"
  apply_with_installed
  rm "$T/cfg/.terraform.lock.hcl"
  tf providers lock -no-color -fs-mirror="$T/m" -platform=linux_amd64 -platform=linux_arm64
  expect_rc 0
  # From a packed mirror Terraform records the h1: it computes itself.
  eq "$(lock_hashes)" "$(our_hashes "$T/m" h1)" "lock file hashes (filesystem mirror)"
}

t_terraform_network_mirror() {
  need_terraform
  mk DIST="$DIST" MIRROR="$T/m" mirror >/dev/null || fail "make mirror"
  make_ca "$T/tls" localhost || fail "make_ca"
  start_https "$T/tls" --static "$T/m" --log "$T/requests" || fail "https server"
  trap 'kill $HTTPS_PID 2>/dev/null' EXIT
  local url="https://127.0.0.1:$HTTPS_PORT/"
  tf_config
  cli_config "  network_mirror {
    url     = \"$url\"
    include = [\"$ADDR\"]
  }"
  # Without the CA, the mirror is not trusted.
  tf init -no-color
  [ "$RC" -ne 0 ] || fail "terraform trusted the test CA without SSL_CERT_FILE"
  export SSL_CERT_FILE=$T/tls/ca.pem
  tf init -no-color
  expect_rc 0
  out_has "Installing cellrouter/cellrouter v$VERSION..."
  grep -qx "GET /$ADDR/index.json" "$T/requests" || fail "index.json not fetched"
  grep -qx "GET /$ADDR/$VERSION.json" "$T/requests" || fail "$VERSION.json not fetched"
  grep -qx "GET /$ADDR/${NAME}_${VERSION}_linux_amd64.zip" "$T/requests" || fail "zip not fetched"
  apply_with_installed
  rm "$T/cfg/.terraform.lock.hcl"
  tf providers lock -no-color -net-mirror="$url" -platform=linux_amd64 -platform=linux_arm64
  expect_rc 0
  # Terraform checked each package against the mirror's hashes and records
  # the h1: it computed itself: ours, exactly.
  eq "$(lock_hashes)" "$(our_hashes "$T/m" h1)" "lock file hashes (network mirror)"
  # A mirror whose h1: is wrong (and no zh:) is refused.
  local vj
  vj=$(mirror_json "$T/m")
  jq '.archives.linux_amd64.hashes = ["h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]' "$vj" >"$vj.tmp" && mv "$vj.tmp" "$vj"
  rm -rf "$T/cfg/.terraform" "$T/cfg/.terraform.lock.hcl"
  tf init -no-color
  [ "$RC" -ne 0 ] || fail "terraform installed a package that does not match the mirror's h1:"
  grep -q 'match the expected checksum "h1:AAAA' "$T/err" || fail "no checksum mismatch reported"
}

t_make_install() {
  run mk MIRROR="$T/plugins" install
  expect_rc 0
  local os_arch
  os_arch=$(go env GOOS)_$(go env GOARCH)
  local bin=$T/plugins/$ADDR/$VERSION/$os_arch/${NAME}_v$VERSION
  [ -x "$bin" ] || fail "make install did not write $bin"
  run "$bin" -version
  eq "$(cat "$T/out")" "$NAME $VERSION" "installed version"
  have_terraform || { echo "(no terraform: layout checked only)"; return 0; }
  init_from_filesystem_mirror "$T/plugins"
  tf apply -auto-approve -no-color
  expect_rc 0
  out_has "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
}

TESTS=${*:-archives signature h1_known_values mirror terraform_filesystem_mirror terraform_network_mirror make_install}
. "$ROOT/tests/lib/runner.sh"
cr_run_tests archives
