#!/bin/busybox sh
# PID 1 of the real-kernel test VM (packed into the initramfs by scripts/vm-image.sh; booted by test/helpers/vm.ts).
#
# Loads the modules, mounts the host's / (9p tag `hostroot`, read-only) on /newroot with fresh proc, sys, dev and
# writable tmpfs over run, tmp, var/tmp and the hub's state directories, mounts the per-call exchange directory
# (9p tag `vmio`, read-write) on /newroot/run/vm-io, and runs the command in .vm/argv (KEY=VALUE environment lines,
# then the argv: test/helpers/vm.ts writes it, running .vm/script.sh with bash in a fresh netns set up by
# scripts/hermetic-netns.sh) chrooted into the host's tree, so every path (node, the repo, ip, tc, iperf3) is the
# host's. The command's stdout+stderr go to
# .vm/output and its exit status to .vm/exit-code, both in the exchange directory, i.e. straight to the host.
#
# The verdict reaches qemu through isa-debug-exit (port 0xf4; qemu exits with (value << 1) | 1):
#   0 -> qemu exit 1: the script ran (its status is in .vm/exit-code);  1 -> qemu exit 3: setting up failed.
# Anything else (no exit, a kernel panic with panic=-1 and -no-reboot: qemu exit 0) means no verdict.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "vm-init: $* [$(up) s]"; }
verdict() { # $1: 0 = the script ran, 1 = setting up failed
  sync
  printf "\\00$1" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  poweroff -f
}
fail() {
  say "FAILED: $*"
  verdict 1
}

say "kernel $(uname -r) up"
for m in $(cat /lib/modules/load.list); do
  case $m in
    dummy) a=numdummies=0 ;; # else loading creates dummy0 (and ifb0, ifb1), which tests do not expect
    ifb) a=numifbs=0 ;;
    *) a= ;;
  esac
  insmod "/lib/modules/$m.ko" $a || fail "insmod $m"
done
echo /bin/false >/proc/sys/kernel/modprobe # everything is loaded; the host's modprobe knows no guest modules

N=/newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot $N || fail "9p mount of the host's /"
mount -t proc proc $N/proc || fail "proc"
mount -t sysfs sys $N/sys || fail "sysfs"
mount -t devtmpfs dev $N/dev || fail "devtmpfs"
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $N/dev/pts
mount -t tmpfs -o mode=1777 shm $N/dev/shm
mount -t tmpfs -o mode=0755 run $N/run || fail "tmpfs on /run"
for d in var/lib/terway-hub var/log/terway-hub var/lib/cni etc/cni/net.d opt/cni/bin; do
  [ -d $N/$d ] && { mount -t tmpfs -o mode=0755 hub $N/$d || fail "tmpfs on /$d"; }
done
IO=/run/vm-io
mkdir -p $N$IO
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmio $N$IO || fail "9p mount of the exchange directory"
[ -f $N$IO/.vm/argv ] || fail "no .vm/argv in the exchange directory"
ln -sf /proc/self/fd $N/dev/fd; ln -sf fd/0 $N/dev/stdin; ln -sf fd/1 $N/dev/stdout; ln -sf fd/2 $N/dev/stderr
ip link set lo up
cwd=$(cat $N$IO/.vm/cwd)
# writable tmpfs over tmp and var/tmp; a repo that lies under one (a clone in mktemp -d) stays visible there
for d in tmp var/tmp; do
  [ -d $N/$d ] || continue
  top=
  case "$cwd/" in /$d/?*) top=${cwd#/$d/}; top=${top%%/*} ;; esac
  if [ -n "$top" ]; then mkdir -p /keep && mount -o bind "$N/$d/$top" /keep || fail "bind of /$d/$top"; fi
  mount -t tmpfs -o mode=1777 tmp $N/$d || fail "tmpfs on /$d"
  if [ -n "$top" ]; then mkdir -p "$N/$d/$top" && mount -o bind /keep "$N/$d/$top" && umount /keep || fail "/$d/$top over the tmpfs"; fi
done
set --
while IFS= read -r arg; do set -- "$@" "$arg"; done <$N$IO/.vm/argv # one argument a line, written by the host

say "running the script in $cwd"
chroot $N /usr/bin/env -i -C "$cwd" HOME=/tmp PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 VM_IO=$IO VM_WHERE=vm "$@" <$N/dev/null >$N$IO/.vm/output 2>&1
rc=$?
echo $rc >$N$IO/.vm/exit-code
say "script exited $rc"
verdict 0
