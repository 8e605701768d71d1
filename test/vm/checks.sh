# Sourced before each VM check script (test/vm/ipvlan-kernel.test.ts prepends it): one CHECK line per check.
check() { # check NAME CMD...: runs CMD, prints `CHECK ok|FAIL NAME` (and the output of a failure), counts failures
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    echo "CHECK ok $name"
  else
    echo "CHECK FAIL $name"
    printf '%s\n' "$out" | sed 's/^/    /'
    fails=$((fails + 1))
  fi
}
