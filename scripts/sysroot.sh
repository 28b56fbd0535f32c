#!/usr/bin/env bash
# scripts/sysroot.sh — a private sysroot of Debian's own -dev packages for
# another architecture, to cross-link the static release executables.
#
#   bash scripts/sysroot.sh ARCH DIR        e.g. arm64 build/sysroot-arm64
#
# Downloads (apt-get download, no install) the :ARCH build of every -dev
# package the static link needs, at exactly the version installed for the
# build machine's own architecture (so headers, protoc-c output and
# libraries agree), and unpacks them with dpkg -x into DIR/root. Nothing of
# the machine's own packages is installed, removed or replaced.
#
# Idempotent and cached: DIR/key records the package versions; when they are
# unchanged the script prints nothing and exits at once. The only change to
# the system is `dpkg --add-architecture ARCH` and an `apt-get update` the
# first time (needed for apt to know the :ARCH package files), both harmless
# to the machine's own packages.
set -euo pipefail

arch=${1:?usage: sysroot.sh ARCH DIR}
dir=${2:?usage: sysroot.sh ARCH DIR}

# Everything the static executables link (see release/release.mk), by
# Debian -dev package. libc and libstdc++ come with the cross compiler
# (libc6-dev-arm64-cross, g++-aarch64-linux-gnu); libcurl is built from
# source (scripts/build-curl.sh).
PKGS=(
  libgrpc-dev libabsl-dev libre2-dev libc-ares-dev libssl-dev zlib1g-dev
  libprotobuf-c-dev libmsgpack-dev libyaml-dev libjansson-dev libyajl-dev
  libsqlite3-dev
)

# The cache key: the build machine's own versions of those packages.
host=()
for p in "${PKGS[@]}"; do
  v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) ||
    { echo "sysroot: $p is not installed for the build machine (run scripts/deps.sh)" >&2; exit 1; }
  host+=("$p=$v")
done
key=$(printf '%s\n' "$arch" "${host[@]}")
if [ -f "$dir/key" ] && [ "$(cat "$dir/key")" = "$key" ] && [ -d "$dir/root/usr" ]; then
  exit 0
fi

echo "sysroot: Debian's :$arch -dev packages into $dir" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT=(apt-get -o DPkg::Lock::Timeout=600 -qq)
# As root, apt would otherwise warn that its _apt user cannot write DIR.
[ "$(id -u)" -ne 0 ] || APT+=(-o APT::Sandbox::User=root)
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  $SUDO dpkg --add-architecture "$arch"
fi
if ! apt-cache show "${PKGS[0]}:$arch" >/dev/null 2>&1; then
  $SUDO "${APT[@]}" update
fi

# The machine's own version when the archive still has it for $arch, else
# the archive's current one (a machine not upgraded since): headers and
# libraries of one architecture always come from one version.
want=()
for h in "${host[@]}"; do
  p=${h%%=*}; v=${h#*=}
  avail=$(apt-cache madison "$p:$arch" | awk -F' [|] ' '{print $2}')
  if ! grep -qxF -- "$v" <<<"$avail"; then
    v=$(apt-cache policy "$p:$arch" | sed -n 's/^ *Candidate: //p')
    case $v in ''|'(none)') echo "sysroot: no $p for $arch in the apt sources" >&2; exit 1 ;; esac
  fi
  want+=("$p:$arch=$v")
done

rm -rf "$dir/root" "$dir/debs.tmp"
mkdir -p "$dir/debs" "$dir/debs.tmp"
# The .debs are kept (DIR/debs): a rebuild after `rm -rf DIR/root` needs no
# download. apt-get download writes into the current directory.
missing=()
for w in "${want[@]}"; do
  p=${w%%:*}; v=${w##*=}
  f=$(ls "$dir/debs/${p}_${v//:/%3a}_$arch.deb" 2>/dev/null || true)
  [ -n "$f" ] || missing+=("$w")
done
if [ ${#missing[@]} -gt 0 ]; then
  (cd "$dir/debs.tmp" && "${APT[@]}" download "${missing[@]}")
  mv "$dir/debs.tmp"/*.deb "$dir/debs/"
fi
rmdir "$dir/debs.tmp"
for w in "${want[@]}"; do
  p=${w%%:*}; v=${w##*=}
  dpkg -x "$dir/debs/${p}_${v//:/%3a}_$arch.deb" "$dir/root"
done
printf '%s\n' "${want[@]}" >"$dir/versions"
printf '%s\n' "$key" >"$dir/key"
