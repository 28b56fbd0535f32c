# scripts/debsrc.sh — a Debian source package, verified and patched, for the
# release build's libraries built from source (build-openssl.sh,
# build-curl.sh). Sourced, not run.
#
#   debsrc_fetch CACHE POOL "NAME SHA256 SHA1"...
#       Each file into CACHE unless a copy with that SHA-256 is already
#       there: from the Debian archive's pool directory POOL (e.g.
#       pool/main/o/openssl) while the version is current, else from
#       snapshot.debian.org by its SHA-1, which keeps every file Debian
#       ever published. A download whose SHA-256 differs is refused.
#   debsrc_unpack SRC ORIG DEBIAN [PATCH...]
#       ORIG (the upstream .orig.tar.*) and DEBIAN (the .debian.tar.xz)
#       unpacked into a new SRC, then every patch of debian/patches/series
#       applied in order the way dpkg-source does (-p1, no fuzz), except the
#       PATCHes named.
#
#   debsrc_build TOOL DIR FUNC
#       Runs the shell function FUNC in DIR, new and empty, its output in
#       DIR.log; on failure shows the end of the log and exits, leaving DIR
#       to look at. After a success DIR goes and the log stays.
#   debsrc_paths TOOL OUT CACHE [SYSROOT]
#       Sets out, cache and sysroot to absolute paths (OUT and CACHE are
#       created), and prefix and destdir for `make install`: OUT itself;
#       for a cross build OUT must lie inside SYSROOT, and is installed as
#       its path there with DESTDIR=SYSROOT, like the sysroot's other
#       libraries, so that pkg-config with PKG_CONFIG_SYSROOT_DIR finds it.
#
# The hashes are the ones in the package's .dsc (Checksums-Sha256, and the
# SHA-1 that snapshot.debian.org names files by).

DEB_MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}

debsrc_paths() {
  local tool=$1
  mkdir -p "$2" "$3"
  out=$(cd "$2" && pwd)
  cache=$(cd "$3" && pwd)
  sysroot=${4:-}
  [ -z "$sysroot" ] || sysroot=$(cd "$sysroot" && pwd)
  prefix=$out destdir=""
  if [ -n "$sysroot" ]; then
    case $out in
      "$sysroot"/*) prefix=${out#"$sysroot"} destdir=$sysroot ;;
      *) echo "$tool: OUT must be inside SYSROOT for a cross build" >&2; return 2 ;;
    esac
  fi
}

debsrc_build() {
  local tool=$1 dir=$2 fn=$3
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! (cd "$dir" && "$fn") >"$dir.log" 2>&1; then
    tail -n 40 "$dir.log" >&2
    echo "$tool: failed, see $dir.log" >&2
    exit 1
  fi
  rm -rf "$dir"
}

debsrc_fetch() {
  local cache=$1 pool=$2 f name sha256 sha1 u ok
  shift 2
  mkdir -p "$cache"
  for f in "$@"; do
    read -r name sha256 sha1 <<<"$f"
    if [ -f "$cache/$name" ] && echo "$sha256  $cache/$name" | sha256sum -c --status; then
      continue
    fi
    ok=0
    for u in "$DEB_MIRROR/$pool/$name" "https://snapshot.debian.org/file/$sha1"; do
      if curl -fsSL --retry 3 -o "$cache/$name.part" "$u" &&
         echo "$sha256  $cache/$name.part" | sha256sum -c --status; then
        mv "$cache/$name.part" "$cache/$name"; ok=1; break
      fi
    done
    rm -f "$cache/$name.part"
    if [ $ok = 0 ]; then
      echo "debsrc: cannot download $name with SHA-256 $sha256" >&2
      return 1
    fi
  done
}

debsrc_unpack() {
  local src=$1 orig=$2 debian=$3 p
  shift 3
  rm -rf "$src"
  mkdir -p "$src"
  tar -xf "$orig" -C "$src" --strip-components=1
  tar -xJf "$debian" -C "$src"
  grep -v -e '^#' -e '^[[:space:]]*$' "$src/debian/patches/series" |
    while read -r p; do
      case " $* " in *" $p "*) continue ;; esac
      patch -d "$src" -p1 -s --no-backup-if-mismatch -F0 <"$src/debian/patches/$p" ||
        { echo "debsrc: Debian patch $p does not apply" >&2; exit 1; }
    done
}
