#!/bin/sh
# Compiles bad-input.c and escape.c into a temporary directory and checks them natively (no
# sandbox): see README.md in this directory.
#
#   sh run-native.sh            check (exit status 0 = all good)
#   sh run-native.sh --update   rewrite bad-input.expected from a native run (after a review!)
#   sh run-native.sh --runsc    also run bad-input under `runsc --network=none do` and show how
#                               gVisor differs from Linux (information only, never fails)
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-check}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

gcc -O1 -static -Wall -o "$tmp/bad-input" "$here/bad-input.c" || { echo "FAIL: gcc bad-input.c"; exit 1; }
gcc -O1 -static -Wall -o "$tmp/escape" "$here/escape.c" || { echo "FAIL: gcc escape.c"; exit 1; }

# --- bad-input: exits 0, ends with `survived`, same output on every run, equal to the file ---
for i in 1 2 3; do
  timeout 60 "$tmp/bad-input" >"$tmp/bad-input.out$i" 2>"$tmp/bad-input.err$i"
  rc=$?
  [ "$rc" -eq 0 ] || fail "bad-input run $i exited with $rc"
  [ "$(tail -n 1 "$tmp/bad-input.out$i")" = survived ] || fail "bad-input run $i did not print survived"
  [ -s "$tmp/bad-input.err$i" ] && fail "bad-input run $i wrote to stderr: $(head -c 200 "$tmp/bad-input.err$i")"
done
cmp -s "$tmp/bad-input.out1" "$tmp/bad-input.out2" || fail "bad-input runs 1 and 2 differ"
cmp -s "$tmp/bad-input.out1" "$tmp/bad-input.out3" || fail "bad-input runs 1 and 3 differ"
if [ "$mode" = --update ]; then
  cp "$tmp/bad-input.out1" "$here/bad-input.expected"
  echo "bad-input.expected rewritten ($(wc -l <"$here/bad-input.expected") lines)"
elif ! cmp -s "$tmp/bad-input.out1" "$here/bad-input.expected"; then
  fail "bad-input output differs from bad-input.expected:"
  diff "$here/bad-input.expected" "$tmp/bad-input.out1" | head -40
fi
echo "bad-input: $(grep ' cases$' "$tmp/bad-input.out1"), 3 identical runs"

# --- escape: natively it must reach the secret (proof the tricks work) and must not crash ---
secret_dir=$(mktemp -d "${TMPDIR:-/tmp}/escape-secret.XXXXXX")
volume=$(mktemp -d "${TMPDIR:-/tmp}/escape-volume.XXXXXX")
secret_value="tsvisor-secret-$$"
echo "$secret_value" >"$secret_dir/secret"
timeout 90 "$tmp/escape" --volume "$volume" "$secret_dir/secret" >"$tmp/escape.out" 2>"$tmp/escape.err"
rc=$?
[ "$rc" -eq 0 ] || fail "escape exited with $rc: $(head -c 200 "$tmp/escape.err")"
[ "$(tail -n 1 "$tmp/escape.out")" = done ] || fail "escape did not print done"
grep -qx "read direct: ok \"$secret_value.\"" "$tmp/escape.out" || fail "escape could not read the secret natively"
grep -qx 'create direct: created' "$tmp/escape.out" || fail "escape could not create a file next to the secret natively"
[ -f "$secret_dir/escape-direct" ] || fail "escape-direct is missing on the host"
grep -q '^escapes: [1-9]' "$tmp/escape.out" || fail "escape counted no escapes natively"
[ "$(cat "$secret_dir/secret")" = "$secret_value" ] || fail "the secret was modified"
markers=$(ls "$secret_dir" | grep -c '^escape-')
echo "escape: $(grep '^escapes:' "$tmp/escape.out"), $markers marker files next to the secret (natively expected)"
rm -rf "$secret_dir" "$volume"

if [ "$mode" = --runsc ]; then
  if command -v runsc >/dev/null 2>&1; then
    timeout 120 runsc --network=none do "$tmp/bad-input" >"$tmp/bad-input.runsc" 2>"$tmp/bad-input.runsc.err"
    echo "runsc: exit $?, last line: $(tail -n 1 "$tmp/bad-input.runsc")"
    echo "runsc: $(diff "$here/bad-input.expected" "$tmp/bad-input.runsc" | grep -c '^>') lines differ from Linux:"
    diff "$here/bad-input.expected" "$tmp/bad-input.runsc"
  else
    echo "runsc: not installed"
  fi
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all native checks passed"
