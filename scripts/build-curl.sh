#!/usr/bin/env bash
# scripts/build-curl.sh — libcurl for the static release executables, built
# from Debian's own source package with only what cellrouter uses.
#
#   bash scripts/build-curl.sh ARCH OUT OPENSSL CACHE [SYSROOT]
#
# Why: Debian's libcurl.a is built with GSSAPI (MIT Kerberos), LDAP,
# librtmp, libssh2, libpsl, nghttp2, brotli and zstd, and several of those
# ship no static archive, so it cannot be linked into a static executable.
# cellrouter's only use of libcurl is HTTPS requests to the Cloudflare API
# (provider/store/http.c), so this builds the same Debian source (the
# version pinned below, with Debian's patches applied the way debian/rules
# applies them for the OpenSSL flavour) configured for HTTP(S) over OpenSSL
# and nothing else, resolving names with c-ares (Debian's libc-ares-dev)
# rather than glibc's getaddrinfo, whose NSS modules a static executable
# cannot load safely.
#
# ARCH is a Debian architecture (amd64, arm64). OPENSSL is the OpenSSL it
# is built against (scripts/build-openssl.sh's OUT). OUT receives include/,
# lib/libcurl.a and lib/pkgconfig/libcurl.pc. A foreign architecture is
# cross-compiled with $CC (e.g. aarch64-linux-gnu-gcc) against SYSROOT
# (scripts/sysroot.sh), and OUT is then a directory inside SYSROOT (e.g.
# SYSROOT/usr/local): libcurl is installed into the sysroot like its other
# libraries, so pkg-config finds it the same way. CACHE keeps the verified
# source downloads and the patched source tree. OUT is keyed on the Debian
# version and the configuration: with neither changed, the script does
# nothing.
set -euo pipefail

. "$(dirname "$0")/debsrc.sh"
usage="usage: build-curl.sh ARCH OUT OPENSSL CACHE [SYSROOT]"
arch=${1:?$usage}
openssl=$(cd "${3:?$usage}" && pwd)
[ -f "$openssl/key" ] || { echo "build-curl: no OpenSSL build in $openssl" >&2; exit 2; }
# Absolute paths: the build runs in another directory.
debsrc_paths build-curl "${2:?$usage}" "${4:?$usage}" "${5:-}"

# ---- the pinned source package (from its .dsc, Checksums-Sha256/Sha1) ----
CURL_DEB_VERSION=7.88.1-10+deb12u15
CURL_UPSTREAM=7.88.1
FILES=(
  "curl_7.88.1.orig.tar.gz cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7 6ae5229c36badb822641bb14958e7d227c57611d"
  "curl_7.88.1-10+deb12u15.debian.tar.xz 961b78bc48492c5693e4decb352ddd176f343260a8956f48b2887874048ef23b 03b665ea82b1f319f6944c9473c8c9fd9980838b"
)

# ---- the configuration: HTTP and HTTPS over OpenSSL, nothing else --------
case $arch in
  amd64) triplet=x86_64-linux-gnu ;;
  arm64) triplet=aarch64-linux-gnu ;;
  *) echo "build-curl: unknown architecture $arch" >&2; exit 2 ;;
esac
CONFIGURE=(
  --disable-shared --enable-static --disable-dependency-tracking
  --with-openssl="$openssl" --enable-ares
  --disable-file --disable-ftp --disable-ldap --disable-ldaps --disable-rtsp
  --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap
  --disable-smb --disable-smtp --disable-gopher --disable-mqtt
  --disable-manual --disable-ntlm --disable-ntlm-wb
  --disable-websockets
  --without-zlib --without-brotli --without-zstd --without-libpsl
  --without-libidn2 --without-nghttp2 --without-libssh2 --without-libssh
  --without-librtmp --without-gssapi --without-libgsasl --without-hyper
  # Debian's own defaults for the OpenSSL flavour; the provider looks for
  # the host's bundle itself (provider/store/http.c), these are the last
  # resort.
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt
  --with-ca-path=/etc/ssl/certs
)
# Debian's hardening flags (dpkg-buildflags, hardening=+all) and the
# version stamp debian/rules adds.
CFLAGS_DEB="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
CPPFLAGS_DEB="-Wdate-time -D_FORTIFY_SOURCE=2 -DCURL_PATCHSTAMP=\\\"$CURL_DEB_VERSION\\\""
key=$(printf '%s\n' "$CURL_DEB_VERSION" "$arch" "${CC:-cc}" "$sysroot" \
        "${CONFIGURE[@]}" "$CFLAGS_DEB" "$CPPFLAGS_DEB" "$(cat "$openssl/key")")
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] &&
   [ -f "$out/lib/libcurl.a" ]; then
  exit 0
fi

# ---- the source: download, verify, patch, autoreconf (once per version) --
src=$cache/curl-$CURL_DEB_VERSION
exec 9>"$cache/curl.lock"
flock 9      # a parallel build of the other architecture shares the tree
if [ ! -f "$src/.prepared" ]; then
  echo "build-curl: Debian source package curl $CURL_DEB_VERSION" >&2
  debsrc_fetch "$cache" pool/main/c/curl "${FILES[@]}"
  # debian/rules builds the OpenSSL flavour from the tree with every patch of
  # the series except the last two (90_gnutls, 99_nss: the other flavours).
  debsrc_unpack "$src" "$cache/curl_$CURL_UPSTREAM.orig.tar.gz" \
    "$cache/curl_$CURL_DEB_VERSION.debian.tar.xz" 90_gnutls.patch 99_nss.patch
  # Then ./buildconf (autoreconf -fi), keeping the ltmain.sh Debian patched.
  cp "$src/ltmain.sh" "$src/ltmain.sh.debian"
  (cd "$src" && autoreconf -fi >/dev/null 2>&1) ||
    { echo "build-curl: autoreconf failed (autoconf, automake, libtool: scripts/deps.sh)" >&2; exit 1; }
  mv "$src/ltmain.sh.debian" "$src/ltmain.sh"
  touch "$src/.prepared"
fi
flock -u 9

# ---- configure and build libcurl only ------------------------------------
echo "build-curl: libcurl $CURL_DEB_VERSION for $arch (HTTP/HTTPS, OpenSSL, c-ares)" >&2
rm -rf "$out"
mkdir -p "$out"
# The OpenSSL given comes first: a sysroot also holds Debian's own headers.
cppflags="-I$openssl/include $CPPFLAGS_DEB" ldflags="-L$openssl/lib"
host=()
env_pc=()
if [ -n "$sysroot" ]; then
  cppflags="$cppflags -I$sysroot/usr/include/$triplet -I$sysroot/usr/include"
  ldflags="$ldflags -L$sysroot/usr/lib/$triplet"
  host=(--host="$triplet")
  env_pc=(PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$triplet/pkgconfig:$sysroot/usr/share/pkgconfig"
          PKG_CONFIG_SYSROOT_DIR="$sysroot")
fi
build() {
  env "${env_pc[@]}" CFLAGS="$CFLAGS_DEB" CPPFLAGS="$cppflags" LDFLAGS="$ldflags" \
    "$src/configure" "${host[@]}" --prefix="$prefix" --libdir="$prefix/lib" "${CONFIGURE[@]}" &&
  make -j"${JOBS:-2}" -C lib &&
  make -C lib install DESTDIR="$destdir" &&
  make -C include install DESTDIR="$destdir" &&
  make install-pkgconfigDATA DESTDIR="$destdir"
}
debsrc_build build-curl "$cache/build-$arch" build
printf '%s\n' "$key" >"$out/key"
