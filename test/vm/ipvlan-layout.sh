#!/bin/bash
# Terway's ENI multi-IP ipvlan L2 layout (/work/shared/reference/terway.md §2.3), built by hand with ip/tc on a
# kernel that has ipvlan, then checked with traffic. Run by test/vm/ipvlan-kernel.test.ts through
# test/helpers/vm.ts (inside the VM, or in a throwaway netns when the host kernel has ipvlan): the namespace it runs in
# is the "node".
#
#   vSwitch netns ${P}vsw: ${P}gw = the vSwitch gateway $GW/$PLEN ── veth ── ${P}eni: the ENI stand-in (no address)
#   pods ${P}p1/${P}p2: eth0 = ipvlan L2 slave of the ENI (created in the pod netns, then renamed), podIP/$PLEN,
#       default via $GW onlink, $HOSTIP/32 scope link + PERMANENT neigh $HOSTIP -> eth0's own MAC
#   node: ipvl_<ENI ifindex> = ipvlan L2 slave, NOARP, $HOSTIP/32 scope host, podIP/32 scope link routes;
#       clsact on the ENI, egress u32 dst $SVC_CIDR prio 40000: tunnel_key unset | skbedit ptype host |
#       mirred ingress redirect dev ipvl_<ifindex>; the service address $SVC_IP stands on lo (in place of
#       kube-proxy's DNAT) and iperf3 listens there.
#
# Prints `CHECK ok NAME` / `CHECK FAIL NAME` (+ indented detail) lines; iperf3's JSON of the shaped run goes to
# $VM_IO/out/tbf.json (the test computes the rate). Exit: 0 all passed, 1 a check failed, 3 setting up failed.
set -u
: "${VM_IO:?}" "${P:?}"
GW=${GW:-192.168.77.253} PLEN=${PLEN:-24} POD1=${POD1:-192.168.77.11} POD2=${POD2:-192.168.77.12}
HOSTIP=${HOSTIP:-172.31.5.10} SVC_CIDR=${SVC_CIDR:-10.96.0.0/16} SVC_IP=${SVC_IP:-10.96.0.10} RATE_MBIT=${RATE_MBIT:-10}
OUT=$VM_IO/out
VSW=${P}vsw NS1=${P}p1 NS2=${P}p2 ENI=${P}eni
fails=0
# check(), setup(), since(), in_ns(), ping2(), wait_listen(), tcp(): test/vm/checks.sh, prepended by the test

# --- node side: namespaces, ENI stand-in, vSwitch -----------------------------------------------------------------
setup "netns + ENI veth" ip -batch - <<EOF
netns add $VSW
netns add $NS1
netns add $NS2
link add $ENI mtu 1500 type veth peer name ${P}gw netns $VSW
link set $ENI up
EOF
IDX=$(cat "/sys/class/net/$ENI/ifindex")
MAC=$(cat "/sys/class/net/$ENI/address") # every ipvlan slave shares its parent's MAC
HS=ipvl_$IDX
setup "vSwitch" ip -n "$VSW" -batch - <<EOF
link set lo up
addr add $GW/$PLEN dev ${P}gw
link set ${P}gw up
EOF
# host slave (NOARP only after `up`: in L2 mode the kernel's ipvlan_open() clears IFF_NOARP, so `arp off up` in one
# command leaves ARP on, and the node then ARPs for pods from the service address, which no slave answers), pod
# slaves (created directly in the pod netns under a temporary name), pod routes
setup "ipvlan slaves + node routes" ip -batch - <<EOF
link add link $ENI name $HS type ipvlan mode l2
link set $HS up
link set $HS arp off
addr add $HOSTIP/32 dev $HS scope host
link add link $ENI name ${P}t1 netns $NS1 type ipvlan mode l2
link add link $ENI name ${P}t2 netns $NS2 type ipvlan mode l2
route add $POD1/32 dev $HS scope link
route add $POD2/32 dev $HS scope link
addr add $SVC_IP/32 dev lo
EOF
for n in 1 2; do
  ns=${P}p$n
  ip=$POD1
  [ $n = 2 ] && ip=$POD2
  setup "pod $n" ip -n "$ns" -batch - <<EOF
link set lo up
link set ${P}t$n name eth0
link set eth0 mtu 1500 up
addr add $ip/$PLEN dev eth0
route add default via $GW dev eth0 onlink
route add $HOSTIP/32 dev eth0 scope link
neigh add $HOSTIP lladdr $MAC dev eth0 nud permanent
EOF
done
setup "service redirect" tc -batch - <<EOF
qdisc add dev $ENI clsact
filter add dev $ENI egress prio 40000 protocol ip u32 match ip dst $SVC_CIDR action tunnel_key unset pipe action skbedit ptype host pipe action mirred ingress redirect dev $HS
EOF
echo "setup done in $(since) s (ENI $ENI ifindex $IDX, host slave $HS, MAC $MAC)"

# --- the layout is what Terway's is -----------------------------------------------------------------------------
check "host slave $HS is an ipvlan L2 slave of the ENI, NOARP" \
  bash -c "ip -d link show $HS | tee /dev/stderr | grep -q 'ipvlan  *mode l2' && ip link show $HS | grep -q NOARP && ip link show $HS | grep -q '@$ENI'"
check "host slave has $HOSTIP/32 scope host" bash -c "ip -4 addr show dev $HS | tee /dev/stderr | grep -q 'inet $HOSTIP/32 scope host'"
check "pod eth0 is an ipvlan L2 slave with the ENI's MAC" \
  bash -c "ip -n $NS1 -d link show eth0 | tee /dev/stderr | grep -q 'ipvlan  *mode l2' && ip -n $NS1 link show eth0 | grep -q 'link/ether $MAC'"
check "pod routes: default via gateway onlink, host /32" \
  bash -c "ip -n $NS1 route | tee /dev/stderr | grep -q 'default via $GW dev eth0 onlink' && ip -n $NS1 route | grep -q '$HOSTIP dev eth0 scope link'"

# --- traffic ------------------------------------------------------------------------------------------------------
check "ping pod1 -> pod2 (same ENI)" ping2 "$NS1" "$POD2"
check "ping pod2 -> pod1 (same ENI)" ping2 "$NS2" "$POD1"
in_ns "$NS2" iperf3 -s -1 -B "$POD2" -p 5201 >"$OUT/srv-pod2.log" 2>&1 &
check "TCP pod1 -> pod2 (iperf3, 1 MB)" bash -c "$(declare -f in_ns wait_listen tcp); OUT=$OUT; wait_listen $NS2 5201 && tcp $NS1 $POD2 5201"
check "ping pod1 -> vSwitch gateway (out through the ENI)" ping2 "$NS1" "$GW"
check "ping pod1 -> node ($HOSTIP, via the host slave)" ping2 "$NS1" "$HOSTIP"
iperf3 -s -1 -B "$HOSTIP" -p 5202 >"$OUT/srv-host.log" 2>&1 &
check "TCP pod1 -> node $HOSTIP (iperf3, 1 MB)" bash -c "$(declare -f in_ns wait_listen tcp); OUT=$OUT; wait_listen - 5202 && tcp $NS1 $HOSTIP 5202"
check "ping pod2 -> service $SVC_IP (redirected to the node)" ping2 "$NS2" "$SVC_IP"
iperf3 -s -1 -B "$SVC_IP" -p 5203 >"$OUT/srv-svc.log" 2>&1 &
check "TCP pod2 -> service $SVC_IP:5203, answered by a node listener" bash -c "$(declare -f in_ns wait_listen tcp); OUT=$OUT; wait_listen - 5203 && tcp $NS2 $SVC_IP 5203"
check "the redirect filter counted the service packets" \
  bash -c "tc -s filter show dev $ENI egress | tee /dev/stderr | grep -A3 'mirred (Ingress Redirect to device $HS)' | grep -qE 'Sent [1-9][0-9]* bytes'"
# negative control: without the redirect the service address is not reachable (the vSwitch does not route it)
tc filter del dev "$ENI" egress prio 40000 protocol ip 2>&1
check "without the redirect, pod2 -> $SVC_IP gets no answer" bash -c "! ip netns exec $NS2 ping -c 1 -W 1 $SVC_IP"

# --- egress shaping on the pod's ipvlan slave (Terway: tbf on pod eth0), measured with iperf3 --------------------
setup "tbf on pod1 eth0" tc -n "$NS1" qdisc add dev eth0 root tbf rate "${RATE_MBIT}mbit" burst 65536 latency 25ms
in_ns "$NS2" iperf3 -s -1 -B "$POD2" -p 5204 >"$OUT/srv-tbf.log" 2>&1 &
check "iperf3 pod1 -> pod2 through tbf ${RATE_MBIT} Mbit/s" \
  bash -c "$(declare -f in_ns wait_listen); wait_listen $NS2 5204 && ip netns exec $NS1 iperf3 -c $POD2 -p 5204 -t 5 -O 1 -J > $OUT/tbf.json"
check "tbf on pod1 eth0 counted the traffic" bash -c "tc -n $NS1 -s qdisc show dev eth0 | tee /dev/stderr | grep -qE 'Sent [0-9]{6,} bytes'"

kill $(jobs -p) 2>/dev/null # one-off iperf3 servers whose client never came (after a failed check)
wait
echo "checks done in $(since) s: $fails failed"
[ "$fails" = 0 ]
