#!/usr/bin/env bash
# scripts/build-openssl.sh — OpenSSL for the static release executables,
# built from Debian 13's source package (3.5) with what cellrouter uses.
#
#   bash scripts/build-openssl.sh ARCH OUT CACHE [SYSROOT]
#
# Why not Debian 12's libcrypto.a (3.0): OpenSSL 3.0 sets up its decoders
# and method stores again and again while the provider parses the PEM keys
# and certificates gRPC's C core insists on (openssl#15199, fixed in later
# 3.x), and builds method tables for every algorithm it carries. Before the
# handshake line the provider ran 23.1 million instructions on 3.0, 14.6
# million on 3.5 with every algorithm it carries, 8.8 million on 3.5
# configured as below (callgrind; README.md has the timings). The
# handshake is what Terraform waits for each time it starts the provider,
# several times per command.
#
# The configuration is Debian's own (debian/rules: the debian-ARCH targets,
# /usr/lib/ssl, no IDEA/MDC2/RC5/SSLv3, the 64-bit NIST curves) built as
# static libraries without modules, apps, tests or docs, and without the
# algorithms and protocols nothing in cellrouter, gRPC or libcurl uses:
# TLS 1.2 and 1.3 with ECDHE (P-256/384/521, X25519, X448) and RSA, ECDSA or
# EdDSA certificates, AES, ChaCha20-Poly1305, SHA-1/2/3 remain; DTLS, QUIC,
# TLS 1.0/1.1, finite-field DH, DSA, PSK, the post-quantum ML-KEM/ML-DSA/
# SLH-DSA, the national and legacy ciphers and digests, CMS, CMP and
# timestamps go. The Cloudflare API and every Terraform client negotiate
# TLS 1.3 with X25519 or P-256. Debian's patches (its security fixes among
# them) are applied as debian/rules applies them.
#
# ARCH is a Debian architecture (amd64, arm64). OUT receives include/,
# lib/libssl.a, lib/libcrypto.a and lib/pkgconfig/. A foreign architecture
# is cross-compiled with Debian's aarch64-linux-gnu- tools, and OUT is then
# a directory inside SYSROOT (e.g. SYSROOT/usr/local), like libcurl's.
# CACHE keeps the verified downloads and the patched source tree. OUT is
# keyed on the Debian version and the configuration: with neither changed,
# the script does nothing.
set -euo pipefail

. "$(dirname "$0")/debsrc.sh"
usage="usage: build-openssl.sh ARCH OUT CACHE [SYSROOT]"
arch=${1:?$usage}
debsrc_paths build-openssl "${2:?$usage}" "${3:?$usage}" "${4:-}"

# ---- the pinned source package (Debian 13 "trixie": SHA-256 from the
# archive's Sources index, SHA-1 of the same files for snapshot.debian.org)
OPENSSL_DEB_VERSION=3.5.7-1~deb13u2
OPENSSL_UPSTREAM=3.5.7
FILES=(
  "openssl_3.5.7.orig.tar.gz a8c0d28a529ca480f9f36cf5792e2cd21984552a3c8e4aa11a24aa31aeac98e8 53d331880fbde8e6fe25870d5325a61201f6264d"
  "openssl_3.5.7-1~deb13u2.debian.tar.xz 593a47654ead460a3b609503733f80bef552ff0802799d3b47784faacc50809f 6d1177d59ef985cff4b6baef95ae748ec724af12"
)

# ---- the configuration ----------------------------------------------------
case $arch in
  amd64) target=debian-amd64 cross="" ;;
  arm64) target=debian-arm64 cross=aarch64-linux-gnu- ;;
  *) echo "build-openssl: unknown architecture $arch" >&2; exit 2 ;;
esac
CONFIGURE=(
  --openssldir=/usr/lib/ssl
  # debian/rules
  no-idea no-mdc2 no-rc5 no-ssl3 no-ssl3-method no-capieng no-rdrand
  enable-ec_nistp_64_gcc_128
  # a static library, nothing else
  no-shared no-module no-tests no-docs no-apps no-legacy
  # not used by cellrouter, gRPC or libcurl (see the top of this file)
  no-dtls no-quic no-srtp no-tls1 no-tls1-method no-tls1_1 no-tls1_1-method
  no-psk no-dh no-dsa no-ml-dsa no-ml-kem no-slh-dsa no-tls-deprecated-ec
  no-ec2m no-sm2 no-sm3 no-sm4 no-gost no-aria no-bf no-blake2 no-camellia
  no-cast no-des no-md4 no-rc2 no-rc4 no-rmd160 no-seed no-whirlpool
  no-siphash no-siv no-ocb no-cmac no-scrypt no-argon2
  no-cms no-cmp no-ts no-rfc3779 no-comp no-dgram no-ssl-trace
  no-padlockeng no-loadereng no-afalgeng no-devcryptoeng
)
key=$(printf '%s\n' "$OPENSSL_DEB_VERSION" "$arch" "$target" "$cross" "$sysroot" "$prefix" \
        "${CONFIGURE[@]}")
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] &&
   [ -f "$out/lib/libcrypto.a" ] && [ -f "$out/lib/libssl.a" ]; then
  exit 0
fi

# ---- the source (once per version, shared by both architectures) --------
src=$cache/openssl-$OPENSSL_DEB_VERSION
exec 9>"$cache/openssl.lock"
flock 9
if [ ! -f "$src/.prepared" ]; then
  echo "build-openssl: Debian source package openssl $OPENSSL_DEB_VERSION" >&2
  debsrc_fetch "$cache" pool/main/o/openssl "${FILES[@]}"
  debsrc_unpack "$src" "$cache/openssl_$OPENSSL_UPSTREAM.orig.tar.gz" \
    "$cache/openssl_$OPENSSL_DEB_VERSION.debian.tar.xz"
  touch "$src/.prepared"
fi
flock -u 9

# ---- configure, build and install the libraries and headers -------------
echo "build-openssl: OpenSSL $OPENSSL_DEB_VERSION for $arch (static, trimmed)" >&2
rm -rf "$out"
mkdir -p "$out"
conf_env=()
[ -z "$cross" ] || conf_env=(CC=gcc CXX=g++)
build() {
  env "${conf_env[@]}" "$src/Configure" "$target" ${cross:+--cross-compile-prefix=$cross} \
    --prefix="$prefix" --libdir=lib "${CONFIGURE[@]}" &&
  make -j"${JOBS:-2}" build_libs &&
  make install_dev DESTDIR="$destdir"
}
debsrc_build build-openssl "$cache/openssl-build-$arch" build
printf '%s\n' "$key" >"$out/key"
