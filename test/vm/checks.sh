# Sourced before each VM check script (test/vm/ipvlan-kernel.test.ts prepends it): one CHECK line per check, and the
# helpers the traffic scripts share (timing since the script started, setup steps, netns, listeners, iperf3).
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

t0=$(cut -d' ' -f1 /proc/uptime)
since() { awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime; }
setup() { # setup WHAT CMD...: a failure ends the run (exit 3)
  local what=$1 out
  shift
  if ! out=$("$@" 2>&1); then
    echo "SETUP FAIL $what"
    printf '%s\n' "$out" | sed 's/^/    /'
    exit 3
  fi
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ping2() { in_ns "$1" ping -c 2 -i 0.2 -W 2 "$2"; }
wait_listen() { # wait_listen NETNS|- PORT: until a TCP listener is up (≤ 10 s)
  local i
  for i in $(seq 50); do
    if [ "$1" = - ]; then ss -Hltn "sport = :$2" | grep -q .; else ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; fi && return 0
    sleep 0.2
  done
  echo "nothing listens on port $2 in ${1/-/the node}"
  return 1
}
tcp() { # tcp NETNS SERVER PORT: 1 MB over TCP (iperf3) to a one-off server already listening
  local f=$OUT/tcp-$1-$2.json
  in_ns "$1" iperf3 -c "$2" -p "$3" -n 1M --connect-timeout 3000 -J >"$f"
  grep -q '"sum_received"' "$f" && ! grep -q '"error"' "$f" || { grep '"error"' "$f"; return 1; }
}
