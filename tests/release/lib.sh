# tests/release/lib.sh — helpers shared by the release test suites (source
# it after setting ROOT): the build and dist trees as absolute paths (B, D),
# the assertion helpers of the end-to-end suites, a throw-away CA, and the
# HTTPS/DNS helper (https.mjs) started in the background.

BUILD=${BUILD:-build}
DIST=${DIST:-dist}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
case $DIST in /*) D=$DIST ;; *) D=$ROOT/$DIST ;; esac
VERSION=$(cat "$ROOT/VERSION")
TERRAFORM=${TERRAFORM:-/usr/local/bin/terraform}

fail() { echo "ASSERTION FAILED: $*"; exit 1; }
# run CMD...: stdout in $T/out, stderr in $T/err, status in RC; all logged.
run() {
  "$@" >"$T/out" 2>"$T/err"
  RC=$?
  echo "\$ $* -> exit $RC"
  sed 's/^/  | /' "$T/out" | head -n 200
  sed 's/^/  ! /' "$T/err" | head -n 200
}
expect_rc()  { [ "$RC" -eq "$1" ] || fail "exit status $RC, want $1"; }
out_has()    { grep -qF -- "$1" "$T/out" || fail "stdout lacks: $1"; }
out_lacks()  { ! grep -qF -- "$1" "$T/out" || fail "stdout has: $1"; }
err_has()    { grep -qF -- "$1" "$T/err" || fail "stderr lacks: $1"; }
eq()         { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"; }

# make_ca DIR NAME...: DIR/ca.pem (a CA made for this run only) and
# DIR/server.pem + server.key for the DNS names NAME... and 127.0.0.1.
make_ca() {
  local dir=$1; shift
  local san="IP:127.0.0.1" n
  for n in "$@"; do san="$san,DNS:$n"; done
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=cellrouter test CA $$" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=$1" 2>/dev/null &&
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" \
    >"$dir/server.ext" &&
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null ||
    { echo "make_ca: openssl failed"; return 1; }
}

# start_https DIR ARGS...: https.mjs with DIR's server certificate; sets
# HTTPS_PID and HTTPS_PORT. The caller stops it (kill $HTTPS_PID).
start_https() {
  local dir=$1; shift
  rm -f "$dir/ready.json"
  node "$ROOT/tests/release/https.mjs" --cert "$dir/server.pem" --key "$dir/server.key" \
    --ready "$dir/ready.json" --watch-pid $$ "$@" </dev/null >"$dir/https.log" 2>&1 &
  HTTPS_PID=$!
  for _ in $(seq 1 200); do     # hang guard: it listens at once
    [ -s "$dir/ready.json" ] && break
    kill -0 $HTTPS_PID 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$dir/ready.json" ] || { cat "$dir/https.log"; echo "https.mjs did not start"; return 1; }
  HTTPS_PORT=$(jq -r .port "$dir/ready.json")
}

# A real Terraform on this machine? (Some checks run only against it.)
have_terraform() { [ -x "$TERRAFORM" ]; }
