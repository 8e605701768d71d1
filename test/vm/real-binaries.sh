#!/bin/bash
# The hub's real binaries on the test kernel (test/vm/ipvlan-kernel.test.ts via test/helpers/vm.ts): the CLI
# (node dist/main/cli.js), the standalone plugin (dist/bin/terway-hub, bun-compiled), and the daemon with its
# better-sqlite3 native addon, serving the plugin an ADD and a DEL of a netns "pod" (vpc mode). Run from the repo
# root. Prints `CHECK ok|FAIL NAME` lines; exit 0 all passed, 1 a check failed, 3 setting up failed.
set -u
: "${VM_IO:?}" "${P:?}" "${NODE:?}"
OUT=$VM_IO/out
fails=0
# check(): test/vm/checks.sh, prepended by the test
up() { cut -d' ' -f1 /proc/uptime; }

t=$(up)
check "node dist/main/cli.js --help" bash -c "'$NODE' dist/main/cli.js --help | tee $OUT/help.txt | grep -q '^  daemon'"
echo "cli --help: $(awk -v t="$t" '{ printf "%.1f", $1 - t }' /proc/uptime) s"
check "dist/bin/terway-hub VERSION" bash -c "CNI_COMMAND=VERSION dist/bin/terway-hub </dev/null | tee $OUT/version.json | grep -q '\"supportedVersions\"'"

# the daemon: own socket, state and conflist dirs on the VM's tmpfs
D=$(mktemp -d /tmp/hub-XXXXXX)
cat >"$D/config.json" <<EOF
{ "mode": "vpc", "socket": "$D/run/daemon.sock", "stateDir": "$D/state", "cniConfDir": "$D/net.d",
  "conflistName": "05-terway-hub.conflist", "keepConflistOnExit": false, "networkName": "${P}net", "httpListen": "", "logLevel": "debug",
  "vpc": { "podCIDR": "10.77.9.0/24" } }
EOF
t=$(up)
"$NODE" dist/main/cli.js daemon --config "$D/config.json" >"$OUT/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do [ -f "$D/net.d/05-terway-hub.conflist" ] || ! kill -0 $daemon 2>/dev/null && break; sleep 0.1; done
echo "daemon ready: $(awk -v t="$t" '{ printf "%.1f", $1 - t }' /proc/uptime) s"
check "daemon wrote its conflist (it is serving)" test -f "$D/net.d/05-terway-hub.conflist"
check "terway-hub status" bash -c "'$NODE' dist/main/cli.js status --socket $D/run/daemon.sock | tee /dev/stderr | grep -q 'ready=true mode=vpc'"

# ADD and DEL of a pod through the plugin, the way libcni calls it
pod=${P}pod
ip netns add "$pod"
stdin=$("$NODE" -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(JSON.stringify({ cniVersion: c.cniVersion, name: c.name, ...c.plugins[0] }))' \
  "$D/net.d/05-terway-hub.conflist")
cni() { env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="${P}ctr" CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME=eth0 \
  CNI_PATH=/opt/cni/bin CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${P}pod" dist/bin/terway-hub <<<"$stdin"; }
t=$(up)
add() { cni ADD >"$OUT/add.json" && cat "$OUT/add.json" && grep -q '"ips"' "$OUT/add.json"; }
check "plugin ADD" add
echo "ADD: $(awk -v t="$t" '{ printf "%.1f", $1 - t }' /proc/uptime) s"
podip=$(grep -oE '10\.77\.9\.[0-9]+' "$OUT/add.json" | head -1)
check "pod has its address ($podip)" bash -c "ip -n $pod -4 addr show dev eth0 | grep -q 'inet $podip/32'"
check "ping node -> pod $podip" ping -c 2 -i 0.2 -W 2 "$podip"
check "plugin DEL" cni DEL
check "DEL removed the pod's interface" bash -c "! ip -n $pod link show eth0"
kill -TERM $daemon
wait $daemon
check "daemon stopped cleanly and removed its conflist" test ! -e "$D/net.d/05-terway-hub.conflist"
[ "$fails" = 0 ]
