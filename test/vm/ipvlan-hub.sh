#!/bin/bash
# The hub's ipvlan dataplane end to end on a kernel with ipvlan (test/vm/ipvlan-kernel.test.ts via test/helpers/vm.ts):
# the REAL daemon (node dist/main/cli.js daemon, `mode: ipvlan`, local provider) on an ENI stand-in, and three pods
# added through the REAL plugin (dist/bin/terway-hub, CNI ADD/CHECK/DEL as libcni calls it). Run from the repo root;
# the namespace it runs in is the "node". The topology is test/vm/ipvlan-layout.sh's (which builds the same layout by
# hand):
#
#   vSwitch netns ${P}vsw: ${P}gw = the vSwitch gateway $GW/$PLEN ── veth ── ${P}eni: the ENI stand-in (no address)
#   the daemon builds the node state: ipvl_<ENI ifindex> (NOARP, $HOSTIP/32 scope host), clsact on the ENI with the
#   egress redirect of $SVC_CIDR; the plugin builds each pod (an ipvlan L2 slave of the ENI, podIP/$PLEN, default via
#   $GW onlink, $HOSTIP/32 + PERMANENT neighbour → the ENI's MAC; podIP/32 dev ipvl_<ifindex> on the node).
#   The service address $SVC_IP stands on lo (kube-proxy's DNAT stand-in) and iperf3 listens there.
#
# Prints `CHECK ok|FAIL NAME` lines; iperf3's JSON of the shaped runs goes to $VM_IO/out/bw-egress.json and
# bw-ingress.json (pod1: both directions shaped), bw-ingress-only.json (pod3: ingress only; the test computes the
# ratios). Exit: 0 all passed, 1 a check failed, 3 setting up failed.
set -u
: "${VM_IO:?}" "${P:?}" "${NODE:?}"
GW=${GW:-192.168.77.253} PLEN=${PLEN:-24} SUBNET=${SUBNET:-192.168.77.0/24} IPS=${IPS:-192.168.77.11-192.168.77.20}
HOSTIP=${HOSTIP:-172.31.5.10} SVC_CIDR=${SVC_CIDR:-10.96.0.0/16} SVC_IP=${SVC_IP:-10.96.0.10}
EGRESS_MBIT=${EGRESS_MBIT:-10} INGRESS_MBIT=${INGRESS_MBIT:-6} INGRESS_ONLY_MBIT=${INGRESS_ONLY_MBIT:-8}
OUT=$VM_IO/out
VSW=${P}vsw NS1=${P}p1 NS2=${P}p2 NS3=${P}p3 ENI=${P}eni
fails=0
# check(), setup(), since(), in_ns(), ping2(), wait_listen(), tcp(): test/vm/checks.sh, prepended by the test
# the node's network state a DEL must give back exactly (links by name and flags, addresses, routes of every table,
# rules, the ENI's qdiscs and egress filters): counters and learned neighbours left out
snapshot() {
  ip -o link show | sed -E 's/^[0-9]+: //; s/ qlen [0-9]+//; s/ state [A-Z]+//; s/link-netns[^ ]*//' | awk '{ print $1, $2, $3 }' | sort
  ip -o -4 addr show | awk '{ print $2, $4, $5, $6, $7 }' | sort
  ip route show table all | grep -v '^local\|^broadcast' | sort
  ip rule show
  tc qdisc show dev "$ENI"
  tc filter show dev "$ENI" egress
}

# --- node: ENI stand-in, vSwitch, service address -------------------------------------------------------------------
setup "netns + ENI veth" ip -batch - <<EOF
netns add $VSW
netns add $NS1
netns add $NS2
netns add $NS3
link add $ENI mtu 1500 type veth peer name ${P}gw netns $VSW
link set $ENI up
addr add $SVC_IP/32 dev lo
EOF
IDX=$(cat "/sys/class/net/$ENI/ifindex")
MAC=$(cat "/sys/class/net/$ENI/address") # every ipvlan slave shares its parent's MAC
HS=ipvl_$IDX
setup "vSwitch" ip -n "$VSW" -batch - <<EOF
link set lo up
addr add $GW/$PLEN dev ${P}gw
link set ${P}gw up
EOF

# --- the daemon, mode ipvlan ----------------------------------------------------------------------------------------
D=$(mktemp -d /tmp/hub-XXXXXX)
cat >"$D/config.json" <<EOF
{ "mode": "ipvlan", "socket": "$D/run/daemon.sock", "stateDir": "$D/state", "cniConfDir": "$D/net.d",
  "conflistName": "05-terway-hub.conflist", "keepConflistOnExit": false, "networkName": "${P}net", "httpListen": "", "logLevel": "debug",
  "cniLogFile": "$OUT/cni.log",
  "local": { "eni": { "link": "$ENI", "gateway": "$GW", "subnet": "$SUBNET", "ips": "$IPS" } },
  "ipvlan": { "hostIp": "$HOSTIP", "serviceCidr": "$SVC_CIDR" } }
EOF
t=$(cut -d' ' -f1 /proc/uptime)
"$NODE" dist/main/cli.js daemon --config "$D/config.json" >"$OUT/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 400); do [ -f "$D/net.d/05-terway-hub.conflist" ] || ! kill -0 $daemon 2>/dev/null && break; sleep 0.1; done
echo "daemon ready: $(awk -v t="$t" '{ printf "%.1f", $1 - t }' /proc/uptime) s"
check "daemon wrote its conflist (it is serving)" test -f "$D/net.d/05-terway-hub.conflist"
[ -f "$D/net.d/05-terway-hub.conflist" ] || { cat "$OUT/daemon.log"; exit 1; }
check "terway-hub status says mode=ipvlan" bash -c "'$NODE' dist/main/cli.js status --socket $D/run/daemon.sock | tee /dev/stderr | grep -q 'ready=true mode=ipvlan'"

# --- the node state the daemon built ----------------------------------------------------------------------------------
check "host slave $HS is an ipvlan L2 slave of the ENI, up, NOARP" \
  bash -c "ip -d link show $HS | tee /dev/stderr | grep -q 'ipvlan  *mode l2' && ip link show $HS | grep -q 'NOARP,UP' && ip link show $HS | grep -q '@$ENI'"
check "host slave has $HOSTIP/32 scope host" bash -c "ip -4 addr show dev $HS | tee /dev/stderr | grep -q 'inet $HOSTIP/32 scope host'"
check "clsact on the ENI, egress u32 $SVC_CIDR pref 40000 -> ingress redirect to $HS" \
  bash -c "tc qdisc show dev $ENI | grep -q clsact && tc filter show dev $ENI egress | tee /dev/stderr | grep -q 'pref 40000 u32' && tc filter show dev $ENI egress | grep -q 'mirred (Ingress Redirect to device $HS)'"
before=$(snapshot)

# --- three pods through the plugin -----------------------------------------------------------------------------------
conf=$D/net.d/05-terway-hub.conflist
stdin_of() { # stdin_of BANDWIDTH_JSON|'' PREV_RESULT_FILE|'': the plugin's stdin, the way libcni builds it
  "$NODE" -e '
    const fs = require("fs");
    const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const o = { cniVersion: c.cniVersion, name: c.name, ...c.plugins[0] };
    if (process.argv[2]) o.runtimeConfig = { bandwidth: JSON.parse(process.argv[2]) };
    if (process.argv[3]) o.prevResult = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
    console.log(JSON.stringify(o));' "$conf" "$1" "$2"
}
cni() { # cni COMMAND POD_NETNS STDIN
  env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="${P}ctr-$2" CNI_NETNS="/var/run/netns/$2" CNI_IFNAME=eth0 \
    CNI_PATH=/opt/cni/bin CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2" dist/bin/terway-hub <<<"$3"
}
BW=$(printf '{"egressRate":%d,"egressBurst":524288,"ingressRate":%d,"ingressBurst":524288}' $((EGRESS_MBIT * 1000000)) $((INGRESS_MBIT * 1000000)))
add() { # add NETNS BANDWIDTH_JSON|''
  cni ADD "$1" "$(stdin_of "$2" '')" >"$OUT/add-$1.json" && cat "$OUT/add-$1.json" && grep -q '"ips"' "$OUT/add-$1.json"
}
t=$(cut -d' ' -f1 /proc/uptime)
check "plugin ADD pod1 (runtimeConfig.bandwidth egress ${EGRESS_MBIT} / ingress ${INGRESS_MBIT} Mbit/s)" add "$NS1" "$BW"
check "plugin ADD pod2" add "$NS2" ''
BW3=$(printf '{"ingressRate":%d,"ingressBurst":524288}' $((INGRESS_ONLY_MBIT * 1000000)))
check "plugin ADD pod3 (ingress only, ${INGRESS_ONLY_MBIT} Mbit/s)" add "$NS3" "$BW3"
echo "3 ADDs: $(awk -v t="$t" '{ printf "%.1f", $1 - t }' /proc/uptime) s"
POD1=$(grep -oE '192\.168\.77\.[0-9]+' "$OUT/add-$NS1.json" | head -1)
POD2=$(grep -oE '192\.168\.77\.[0-9]+' "$OUT/add-$NS2.json" | head -1)
POD3=$(grep -oE '192\.168\.77\.[0-9]+' "$OUT/add-$NS3.json" | head -1)
echo "pod1 $POD1, pod2 $POD2, pod3 $POD3"
check "the CNI result: pod interface with the ENI's MAC, $POD1/$PLEN via $GW" \
  bash -c "grep -q '\"mac\": *\"$MAC\"' $OUT/add-$NS1.json && grep -q '\"address\": *\"$POD1/$PLEN\"' $OUT/add-$NS1.json && grep -q '\"gateway\": *\"$GW\"' $OUT/add-$NS1.json"
check "pod eth0 is an ipvlan L2 slave with the ENI's MAC and $POD1/$PLEN" \
  bash -c "ip -n $NS1 -d link show eth0 | tee /dev/stderr | grep -q 'ipvlan  *mode l2' && ip -n $NS1 link show eth0 | grep -q 'link/ether $MAC' && ip -n $NS1 -4 addr show dev eth0 | grep -q 'inet $POD1/$PLEN'"
check "pod routes: default via gateway onlink, $HOSTIP/32, PERMANENT neighbour $HOSTIP -> ENI MAC" \
  bash -c "ip -n $NS1 route | tee /dev/stderr | grep -q 'default via $GW dev eth0 onlink' && ip -n $NS1 route | grep -q '$HOSTIP dev eth0 scope link' && ip -n $NS1 neigh show $HOSTIP | grep -q '$MAC PERMANENT'"
check "node routes: $POD1/32 and $POD2/32 dev $HS" \
  bash -c "ip route | tee /dev/stderr | grep -q '^$POD1 dev $HS scope link' && ip route | grep -q '^$POD2 dev $HS scope link'"
check "pod1 shaping: tbf on eth0 (egress), ingress redirect to an ifb with tbf, inside the pod" \
  bash -c "tc -n $NS1 qdisc show | tee /dev/stderr | grep -q 'qdisc tbf .* dev eth0 root' && tc -n $NS1 qdisc show | grep -q 'qdisc ingress ffff: dev eth0' && tc -n $NS1 qdisc show | grep -qE 'qdisc tbf .* dev hub[0-9a-f]+ root'"
check "no shaping on pod2" bash -c "! tc -n $NS2 qdisc show | grep -q tbf"
check "pod3 shaping, ingress only: an ifb with tbf, no tbf on eth0" \
  bash -c "tc -n $NS3 qdisc show | tee /dev/stderr | grep -qE 'qdisc tbf .* dev hub[0-9a-f]+ root' && ! tc -n $NS3 qdisc show dev eth0 | grep -q tbf"

# --- CHECK --------------------------------------------------------------------------------------------------------
check "plugin CHECK pod1 (shaped)" cni CHECK "$NS1" "$(stdin_of "$BW" "$OUT/add-$NS1.json")"
check "plugin CHECK pod2" cni CHECK "$NS2" "$(stdin_of '' "$OUT/add-$NS2.json")"
check "plugin CHECK pod3 (ingress only)" cni CHECK "$NS3" "$(stdin_of "$BW3" "$OUT/add-$NS3.json")"

# --- traffic ------------------------------------------------------------------------------------------------------
check "ping pod1 -> pod2 (same ENI)" ping2 "$NS1" "$POD2"
check "ping pod2 -> pod1 (same ENI)" ping2 "$NS2" "$POD1"
in_ns "$NS2" iperf3 -s -1 -B "$POD2" -p 5201 >"$OUT/srv-pod2.log" 2>&1 &
check "TCP pod1 -> pod2 (iperf3, 1 MB)" bash -c "$(declare -f in_ns wait_listen tcp); OUT=$OUT; wait_listen $NS2 5201 && tcp $NS1 $POD2 5201"
check "ping pod1 -> vSwitch gateway (out through the ENI)" ping2 "$NS1" "$GW"
check "ping pod2 -> node ($HOSTIP, via the host slave)" ping2 "$NS2" "$HOSTIP"
check "ping node -> pod2" ping -c 2 -i 0.2 -W 2 "$POD2"
iperf3 -s -1 -B "$HOSTIP" -p 5202 >"$OUT/srv-host.log" 2>&1 &
check "TCP pod2 -> node $HOSTIP (iperf3, 1 MB)" bash -c "$(declare -f in_ns wait_listen tcp); OUT=$OUT; wait_listen - 5202 && tcp $NS2 $HOSTIP 5202"
check "ping pod2 -> service $SVC_IP (redirected to the node)" ping2 "$NS2" "$SVC_IP"
iperf3 -s -1 -B "$SVC_IP" -p 5203 >"$OUT/srv-svc.log" 2>&1 &
check "TCP pod2 -> service $SVC_IP:5203, answered by a node listener" bash -c "$(declare -f in_ns wait_listen tcp); OUT=$OUT; wait_listen - 5203 && tcp $NS2 $SVC_IP 5203"
check "the redirect filter counted the service packets" \
  bash -c "tc -s filter show dev $ENI egress | tee /dev/stderr | grep -A3 'mirred (Ingress Redirect to device $HS)' | grep -qE 'Sent [1-9][0-9]* bytes'"

# --- bandwidth from runtimeConfig, both directions of pod1, measured ----------------------------------------------------
in_ns "$NS2" iperf3 -s -1 -B "$POD2" -p 5204 >"$OUT/srv-egress.log" 2>&1 &
check "iperf3 pod1 -> pod2 (pod1's egress, ${EGRESS_MBIT} Mbit/s)" \
  bash -c "$(declare -f in_ns wait_listen); wait_listen $NS2 5204 && ip netns exec $NS1 iperf3 -c $POD2 -p 5204 -t 5 -O 1 -J > $OUT/bw-egress.json"
in_ns "$NS1" iperf3 -s -1 -B "$POD1" -p 5205 >"$OUT/srv-ingress.log" 2>&1 &
check "iperf3 pod2 -> pod1 (pod1's ingress, ${INGRESS_MBIT} Mbit/s)" \
  bash -c "$(declare -f in_ns wait_listen); wait_listen $NS1 5205 && ip netns exec $NS2 iperf3 -c $POD1 -p 5205 -t 5 -O 1 -J > $OUT/bw-ingress.json"
in_ns "$NS3" iperf3 -s -1 -B "$POD3" -p 5206 >"$OUT/srv-ingress-only.log" 2>&1 &
check "iperf3 pod2 -> pod3 (pod3's ingress only, ${INGRESS_ONLY_MBIT} Mbit/s)" \
  bash -c "$(declare -f in_ns wait_listen); wait_listen $NS3 5206 && ip netns exec $NS2 iperf3 -c $POD3 -p 5206 -t 5 -O 1 -J > $OUT/bw-ingress-only.json"
check "pod1's tbfs counted the traffic (eth0 and its ifb)" \
  bash -c "tc -n $NS1 -s qdisc show | tee /dev/stderr | grep -A1 'qdisc tbf' | grep -cE 'Sent [0-9]{6,} bytes' | grep -q '^2$'"

# --- DEL: exactly what ADD added goes ------------------------------------------------------------------------------------
check "plugin DEL pod1" cni DEL "$NS1" "$(stdin_of "$BW" "$OUT/add-$NS1.json")"
check "plugin DEL pod2" cni DEL "$NS2" "$(stdin_of '' "$OUT/add-$NS2.json")"
check "plugin DEL pod3" cni DEL "$NS3" "$(stdin_of "$BW3" "$OUT/add-$NS3.json")"
check "DEL removed the pods' links (eth0, the ifbs): only lo is left" \
  bash -c "for ns in $NS1 $NS2 $NS3; do [ \"\$(ip -n \$ns -o link show | awk '{ print \$2 }')\" = 'lo:' ] || { ip -n \$ns link; exit 1; }; done"
after=$(snapshot)
check "DEL gave the node back exactly its state before the ADDs (host slave and redirect stay, /32 routes gone)" \
  bash -c "diff <(printf '%s\n' \"\$1\") <(printf '%s\n' \"\$2\")" _ "$before" "$after"
check "a second DEL succeeds (idempotent)" cni DEL "$NS1" "$(stdin_of "$BW" "$OUT/add-$NS1.json")"

kill -TERM $daemon
wait $daemon
code=$?
check "daemon stopped cleanly (status $code) and removed its conflist" bash -c "[ $code = 0 ] && test ! -e $D/net.d/05-terway-hub.conflist"
check "the host slave stays after the daemon stops (node state)" ip link show "$HS"

kill $(jobs -p) 2>/dev/null # one-off iperf3 servers whose client never came (after a failed check)
wait
[ "$fails" = 0 ] || { echo "--- daemon log (tail) ---"; tail -40 "$OUT/daemon.log"; echo "--- cni log (tail) ---"; tail -20 "$OUT/cni.log" 2>/dev/null; }
echo "checks done in $(since) s: $fails failed"
[ "$fails" = 0 ]
