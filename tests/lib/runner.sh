# tests/lib/runner.sh — the loop shared by the shell end-to-end suites
# (tests/e2e/run.sh, tests/e2e/fleet.sh, tests/edge/run.sh). Source it, then
# call `cr_run_tests LABEL` with TESTS (names; test N is the function t_N)
# and WORK (a scratch directory) set.
#
# Each test runs in its own directory WORK/NAME with its output in
# WORK/NAME/log. A test also fails when the provider's stderr (the suites
# point TFCORE_PROVIDER_STDERR at it) holds a sanitizer report, or when the
# suite defines cr_extra_check and it fails. A test that exits with status
# CR_SKIP is skipped: its last "SKIP: reason" line is printed. The last
# line is "LABEL: N passed, N failed[, N skipped]" and the status is 0 only
# when none failed. WORK is removed after a clean run unless KEEP=1.

CR_SKIP=77

cr_run_tests() {
  local label=$1 name st t0 passed=0 failed=0 skipped=0 failures=""
  for name in $TESTS; do
    T=$WORK/$name
    mkdir -p "$T"
    export TFCORE_PROVIDER_STDERR=$T/provider.stderr
    t0=$SECONDS
    ( cd "$T" && "t_$name" ) >"$T/log" 2>&1
    st=$?
    if [ $st -eq $CR_SKIP ]; then
      skipped=$((skipped + 1))
      echo "SKIP  $name ($(grep '^SKIP: ' "$T/log" | tail -n 1 | cut -c7-))"
      continue
    fi
    if [ $st -eq 0 ] && [ -f "$T/provider.stderr" ] &&
       grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/provider.stderr"; then
      echo "ASSERTION FAILED: sanitizer report in the provider's stderr:" >>"$T/log"
      head -c 100000 "$T/provider.stderr" >>"$T/log"
      st=1
    fi
    if [ $st -eq 0 ] && declare -F cr_extra_check >/dev/null && ! cr_extra_check "$T"; then
      st=1
    fi
    if [ $st -eq 0 ]; then
      passed=$((passed + 1))
      echo "PASS  $name ($((SECONDS - t0)) s)"
    else
      failed=$((failed + 1))
      failures="$failures $name"
      echo "FAIL  $name   (transcript: $T/log)"
      tail -n 60 "$T/log" | sed 's/^/      /'
    fi
  done
  [ $failed -eq 0 ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$WORK"
  local skips=""
  [ $skipped -gt 0 ] && skips=", $skipped skipped"
  echo "$label: $passed passed, $failed failed$skips${failures:+ (failed:$failures)}"
  [ $failed -eq 0 ]
}
