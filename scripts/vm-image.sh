#!/usr/bin/env bash
# Builds, once and cached by content, the boot image of the real-kernel test VM (test/helpers/vm.ts):
#
#   - Debian's stock kernel (linux-image-amd64: ipvlan, veth, ifb, tc actions as modules), fetched with
#     `apt-get download` and read with dpkg-deb, never installed (nothing touches /boot), and decompressed to the
#     plain ELF `vmlinux` that qemu boots directly (PVH): no firmware, no in-guest decompression under emulation;
#   - a tiny initramfs: busybox-static, the kernel modules the tests need (dependencies resolved from
#     modules.dep) and test/vm/init.sh as PID 1. The VM runs the HOST's userland: init mounts the host's `/`
#     read-only over virtio-9p and chroots into it, so node, node_modules, the repo, ip/tc/nsenter and iperf3 are
#     the host's own (same paths) and nothing of them is copied.
#
# usage: scripts/vm-image.sh [--offline]
#   Last line of stdout: `image DIR` (DIR holds vmlinux, initramfs.cpio, kernel-release). On failure the exit
#   status is non-zero and the last line of stderr is `unavailable: REASON`.
#   --offline   never run apt-get (no install, update or download): use what is installed and cached. The test
#               suites run inside a network namespace without a route out, so they build with --offline;
#               scripts/test.ts runs this script without it first, in the real host's namespace.
#   As root and without --offline, missing packages (PACKAGES below) are installed with apt-get.
#
# Cache: ${TERWAY_HUB_VM_CACHE:-/var/cache/terway-hub-vm} (outside the repo). kernel/PKG_VERSION/ keeps the .deb,
# vmlinux and modules.dep of one kernel build; img-HASH/ one image, HASH covering this script, init.sh, busybox,
# the module list and the kernel version, so a change to any of them builds a new image and an unchanged tree
# reuses the old one. An flock on $CACHE/lock serialises builds of parallel runs; images appear by rename.
set -euo pipefail

# Packages: qemu + image tools, and what the guest runs from the host's / (ip/tc, ping, nsenter, iperf3).
PACKAGES=(qemu-system-x86 cpio kmod busybox-static xz-utils iproute2 iputils-ping util-linux iperf3)
# Kernel modules in the initramfs (their dependencies come along). sch_ingress provides clsact too.
MODULES=(ipvlan veth dummy ifb sch_ingress sch_tbf sch_fq cls_u32 act_mirred act_gact act_skbedit act_tunnel_key
  virtio_mmio 9pnet_virtio 9p)
# Optional modules: taken when the kernel has them as modules; a kernel without them (or with them built in) still
# gives an image, and the tests needing them find out at run time (test/vm/ipvlan-policy.ts skips, saying why).
# nf_tables (with nfnetlink; inet tables, filter chains, sets, maps, meta, payload and counters are built into it in
# 6.1) + nft_ct (`ct state`; brings nf_conntrack) are what the builtin NetworkPolicy backend's rulesets need (no
# reject, no NAT); nf_conntrack_netlink is for `conntrack -L/-D` (its conntrack cut). crc32c_generic first: libcrc32c
# (a dependency of nf_tables) names it only as a softdep (`pre: crc32c`), which modules.dep does not list, and fails
# to load without it.
OPTIONAL_MODULES=(crc32c_generic nf_tables nft_ct nf_conntrack_netlink)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
INIT=$ROOT/test/vm/init.sh
CACHE=${TERWAY_HUB_VM_CACHE:-/var/cache/terway-hub-vm}
OFFLINE=0
for a in "$@"; do
  case $a in
    --offline) OFFLINE=1 ;;
    *) echo "usage: $0 [--offline]" >&2; exit 2 ;;
  esac
done

die() { echo "unavailable: $*" >&2; exit 1; }
note() { echo "vm-image: $*" >&2; }
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# 1. packages ------------------------------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$OFFLINE" = 0 ] || die "packages not installed: ${missing[*]} (apt-get install ${missing[*]}; npm test does it as root)"
  [ "$(id -u)" = 0 ] || die "packages not installed: ${missing[*]} (needs root to apt-get install them)"
  note "installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; } ||
    die "apt-get install ${missing[*]} failed"
fi
BUSYBOX=$(command -v busybox) || die "busybox not found"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked (install busybox-static)"

mkdir -p "$CACHE" || die "cannot create $CACHE"
exec 9>"$CACHE/lock" || die "cannot open $CACHE/lock"
flock -w 900 9 || die "timed out waiting for another build holding $CACHE/lock"
for s in 0 1; do [ -e "$CACHE/slot-$s.lock" ] || install -m 0644 /dev/null "$CACHE/slot-$s.lock"; done
rm -rf "$CACHE"/kernel-tmp.* "$CACHE"/img-tmp.* # left by a build that was killed (we hold the lock)

# 2. kernel --------------------------------------------------------------------------------------------------------
resolve_kernel() { # prints PKG VERSION of the kernel linux-image-amd64's candidate depends on, per apt's lists
  apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" { for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-[0-9]/ && $(i + 1) == "(=") { v = $(i + 2); sub(/[),].*/, "", v); print $i, v; exit 0 } } END { exit !v }'
}
kv=$(resolve_kernel) || { [ "$OFFLINE" = 0 ] && [ "$(id -u)" = 0 ] && apt-get update -qq >&2 && kv=$(resolve_kernel); } || kv=
if [ -n "$kv" ]; then
  KDIR=$CACHE/kernel/${kv/ /_}
else # no apt lists: the newest kernel already in the cache
  KDIR=$(find "$CACHE/kernel" -mindepth 2 -maxdepth 2 -name READY -printf '%h\n' 2>/dev/null | sort -V | tail -1)
  [ -n "$KDIR" ] || die "apt does not know linux-image-amd64 (run apt-get update) and no kernel is cached in $CACHE/kernel"
  note "apt does not know linux-image-amd64; using the cached $(basename "$KDIR")"
fi
if [ ! -f "$KDIR/READY" ]; then
  [ "$OFFLINE" = 0 ] || die "kernel ${kv% *} not in $CACHE (download needs the network: run scripts/vm-image.sh once without --offline)"
  t0=$SECONDS
  tmp=$(mktemp -d "$CACHE/kernel-tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  note "downloading ${kv% *} ${kv#* }"
  (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "${kv% *}=${kv#* }" >&2) || die "apt-get download ${kv% *}=${kv#* } failed"
  deb=$(echo "$tmp"/*.deb)
  dpkg-deb -x "$deb" "$tmp/x" # into a scratch tree: nothing goes to /boot or /lib/modules
  krel=$(ls "$tmp/x/lib/modules")
  depmod -b "$tmp/x" "$krel" # the .deb ships no modules.dep (its postinst makes it)
  vmlinuz=$tmp/x/boot/vmlinuz-$krel
  # vmlinuz = setup code + an xz stream (Debian's CONFIG_KERNEL_XZ) + trailer; the stream is the ELF vmlinux.
  off=$(grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
  [ -n "$off" ] || die "no xz stream in $vmlinuz (Debian changed the kernel compression?)"
  tail -c +$((off + 1)) "$vmlinuz" | xz -dcq --single-stream >"$tmp/vmlinux" || true
  [ "$(head -c 4 "$tmp/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "decompressing $vmlinuz gave no ELF"
  mkdir "$tmp/k"
  mv "$deb" "$tmp/k/kernel.deb"
  mv "$tmp/vmlinux" "$tmp/k/vmlinux"
  cp "$tmp/x/lib/modules/$krel/modules.dep" "$tmp/k/modules.dep"
  echo "$krel" >"$tmp/k/kernel-release"
  touch "$tmp/k/READY"
  mkdir -p "$CACHE/kernel"
  rm -rf "$KDIR"
  mv "$tmp/k" "$KDIR"
  rm -rf "$tmp"
  trap - EXIT
  # older kernels (their images hold hard links to what they need)
  find "$CACHE/kernel" -mindepth 1 -maxdepth 1 ! -path "$KDIR" -exec rm -rf {} +
  note "kernel ready in $((SECONDS - t0)) s"
fi
krel=$(cat "$KDIR/kernel-release")

# 3. image ---------------------------------------------------------------------------------------------------------
[ -f "$INIT" ] || die "$INIT missing"
key=$({ cat "$0" "$INIT" "$BUSYBOX"; echo "${MODULES[*]}" "${OPTIONAL_MODULES[*]}" "$(basename "$KDIR")"; } | sha256sum | cut -c1-16)
IMG=$CACHE/img-$key
if [ -f "$IMG/READY" ]; then touch "$IMG"; echo "image $IMG"; exit 0; fi

t0=$SECONDS
tmp=$(mktemp -d "$CACHE/img-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
R=$tmp/root
mkdir -p "$R"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$BUSYBOX" "$R/bin/busybox"
for app in $("$BUSYBOX" --list); do [ -e "$R/bin/$app" ] || ln -s busybox "$R/bin/$app"; done
install -m 0755 "$INIT" "$R/init"

# modules in load order: each one's dependencies (modules.dep) before it
declare -A seen=()
order=()
add_mod() {
  local rel=$1 d
  [ -z "${seen[$rel]:-}" ] || return 0
  seen[$rel]=1
  for d in $(awk -F: -v r="$rel" '$1 == r { print $2 }' "$KDIR/modules.dep"); do add_mod "$d"; done
  order+=("$rel")
}
mod_rel() { awk -F: -v m="$1" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.xz|\.zst)?$/, "", n); gsub(/-/, "_", n) } n == m { print $1; exit }' "$KDIR/modules.dep"; }
for m in "${MODULES[@]}"; do
  rel=$(mod_rel "$m")
  [ -n "$rel" ] || die "module $m is not in $krel"
  add_mod "$rel"
done
for m in "${OPTIONAL_MODULES[@]}"; do
  rel=$(mod_rel "$m")
  if [ -n "$rel" ]; then add_mod "$rel"; else note "optional module $m is not a module of $krel (built in, or absent)"; fi
done
members=()
for rel in "${order[@]}"; do members+=("./lib/modules/$krel/$rel"); done
dpkg-deb --fsys-tarfile "$KDIR/kernel.deb" | tar -x -C "$tmp" "${members[@]}" || die "extracting modules from the kernel .deb failed"
: >"$R/lib/modules/load.list"
for rel in "${order[@]}"; do
  f=$tmp/lib/modules/$krel/$rel
  name=$(basename "${rel%%.ko*}")
  case $rel in
    *.ko.xz) xz -dc "$f" >"$R/lib/modules/$name.ko" ;;
    *.ko.zst) zstd -dcq "$f" >"$R/lib/modules/$name.ko" ;;
    *) cp "$f" "$R/lib/modules/$name.ko" ;;
  esac
  echo "$name" >>"$R/lib/modules/load.list"
done

mkdir "$tmp/img"
(cd "$R" && find . -print0 | cpio --null -o -H newc --quiet) >"$tmp/img/initramfs.cpio"
ln "$KDIR/vmlinux" "$tmp/img/vmlinux" 2>/dev/null || cp "$KDIR/vmlinux" "$tmp/img/vmlinux"
echo "$krel" >"$tmp/img/kernel-release"
cp "$R/lib/modules/load.list" "$tmp/img/modules"
touch "$tmp/img/READY"
rm -rf "$IMG"
mv "$tmp/img" "$IMG"
rm -rf "$tmp"
trap - EXIT
# images of other trees/versions unused for a week
find "$CACHE" -mindepth 1 -maxdepth 1 -name 'img-*' ! -path "$IMG" -mtime +7 -exec rm -rf {} +
touch "$IMG"
note "image built in $((SECONDS - t0)) s ($(du -sh "$IMG/initramfs.cpio" | cut -f1) initramfs, kernel $krel)"
echo "image $IMG"
