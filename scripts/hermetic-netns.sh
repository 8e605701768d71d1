#!/bin/sh
# Runs "$@" as if inside a fresh host, for the privileged test suites. Started by scripts/test.ts as
#   unshare --net --mount --propagation private -- scripts/hermetic-netns.sh CMD...
# so this process already sits in a throwaway network namespace (only a down `lo`) and a private mount namespace
# (nothing mounted here propagates to the real host). Both namespaces die with the last process in them: whatever
# the tests leave behind (links, routes, rules, sysctls, `ip netns` names, mounts) goes with them.
#
# Inside, the "host" gets:
# - `lo` up, and an uplink `hostup0` (one end of a veth pair whose other end is also here: veth is what the suites
#   use anyway, unlike dummy or ifb, whose first load creates dummy0/ifb0/ifb1 in the real host) with
#   198.51.100.2/24 + a default route via 198.51.100.1 and fd00:5164::2/64: the suites ping "the host's primary address";
# - a private tmpfs on /run/netns (and /var/run/netns when that is not a symlink to it): `ip netns add` and podman
#   create their names there, which then never collide with the real host's or another parallel run's;
# - a fresh sysfs on /sys, so /sys/class/net shows this namespace's links (sysfs shows the netns of its mounter),
#   with the real /sys's sub-mounts (cgroups for podman/runc, ...) moved back on top of it;
# - a private tmpfs over each fixed runtime path the code or podman would write on the real host, when it exists:
#   the daemon's default socket/state/log dirs and libcni's result cache.
set -eu

[ "$#" -gt 0 ] || { echo "usage: unshare --net --mount --propagation private -- $0 CMD..." >&2; exit 2; }
# unshare execs this script, so the parent is the runner, in the real host's namespaces: sharing either of them
# with it means unshare was not used, and nothing below may run.
for ns in net mnt; do
  if [ "$(readlink "/proc/self/ns/$ns")" = "$(readlink "/proc/$PPID/ns/$ns")" ]; then
    echo "hermetic-netns.sh: not in a throwaway $ns namespace (run it through scripts/test.ts)" >&2
    exit 2
  fi
done

mkdir -p /run/netns # the mount point; an empty directory is what `ip netns add` leaves on a fresh host anyway
mount -t tmpfs -o mode=0755,size=1m hub-test-netns /run/netns
if [ -d /var/run/netns ] && [ "$(readlink -f /var/run/netns)" != /run/netns ]; then
  mount -t tmpfs -o mode=0755,size=1m hub-test-netns /var/run/netns
fi

# A sysfs of this netns over /sys; the old /sys (rbind-ed aside first) gives back its direct sub-mounts.
aside=/run/netns/.old-sys
mkdir "$aside"
mount --rbind /sys "$aside"
mount --make-rprivate "$aside"
mount -t sysfs hub-test-sysfs /sys
# /proc/self/mountinfo: $1 mount id, $2 parent id, $5 mount point. The aside's children, outermost first.
awk -v a="$aside" '$5 == a { id = $1 } id != "" && $2 == id { print substr($5, length(a) + 2) }' /proc/self/mountinfo |
  while read -r rel; do
    if [ -d "/sys/$rel" ]; then mount --move "$aside/$rel" "/sys/$rel"; fi
  done
umount -l "$aside"
rmdir "$aside"

for d in /run/terway-hub /var/lib/terway-hub /var/log/terway-hub /var/lib/cni; do
  if [ -d "$d" ] && [ ! -L "$d" ]; then mount -t tmpfs -o mode=0700 hub-test-private "$d"; fi
done

ip link set lo up
ip link add hostup0 type veth peer name hostup0p
ip link set hostup0p up
ip link set hostup0 up
ip addr add 198.51.100.2/24 dev hostup0
ip route add default via 198.51.100.1 dev hostup0 onlink
ip -6 addr add fd00:5164::2/64 dev hostup0 nodad

exec "$@"
