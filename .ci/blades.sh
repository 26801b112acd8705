#!/usr/bin/env bash
# A second (third, ...) libvirtd "blade" on this machine, for the end-to-end tests.
#   .ci/blades.sh up b2 2 [b3 3 ...]    .ci/blades.sh down b2 [b3 ...]
#   .ci/blades.sh kill b3               every process of the blade dies at once (a power cut: libvirtd,
#                                       virtlockd, its QEMUs); its definitions stay on its disk
#   .ci/blades.sh start b3 3            the daemons of a killed blade start again
#   .ci/blades.sh freeze b3 | thaw b3   every process of the blade stopped (SIGSTOP) or let go on (SIGCONT):
#                                       a hung machine, its connections open, nothing answered
#   .ci/blades.sh restart-libvirtd b3   its libvirtd killed (kill -9) and started again; virtlockd and QEMUs
#                                       run on, as when an admin's upgrade or a crash restarts the daemon
# Blade NAME/IDX is a network namespace NAME (10.203.0.IDX on the bridge ievbr0; the host is 10.203.0.1)
# with its own mount and UTS namespaces, where /run/libvirt, /var/lib/libvirt, /etc/libvirt,
# /var/log/libvirt and /var/cache/libvirt are its own, and libvirtd listens on TCP (no auth) at
# qemu+tcp://10.203.0.IDX/system. Everything else (/tmp, images) is shared, like a SAN.
# Traffic stays on ievbr0, a bridge with no uplink. Inside each blade, guests bridge to its own br0
# (192.168.IDX.1/24, no uplink either), where a dnsmasq hands out addresses and writes its leases to
# $BLADES_ROOT/NAME/dnsmasq.leases, as a department's DHCP server would for the controller to read.
# Every blade runs libvirt's lock engine, lockd: its own virtlockd, all with one lockspace directory
# ($BLADES_ROOT/lockspace, the "SAN"), so a disk open on one blade cannot be opened on another
# (fcntl locks between processes of one machine behave as cluster-wide ones would). QEMU listens for
# incoming migrations on the blade's own address.
set -uo pipefail
R=${BLADES_ROOT:-/tmp/ie-virsh-blades}
mkdir -p "$R"

hub_up() {
  ip link show ievbr0 >/dev/null 2>&1 && return
  ip link add ievbr0 type bridge
  ip addr add 10.203.0.1/24 dev ievbr0
  ip link set ievbr0 up
}

blade_up() {
  local name=$1 ip=10.203.0.$2 dir=$R/$1
  mkdir -p "$dir"/{run,lib,etc/qemu,log,cache}
  [ -d "$dir/cache/qemu" ] || cp -a /var/cache/libvirt/qemu "$dir/cache/" 2>/dev/null   # QEMU capabilities: saves ~7 s
  cp /etc/libvirt/libvirt.conf "$dir/etc/" 2>/dev/null || true
  printf 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\nstdio_handler = "file"\ncgroup_controllers = [ ]\nlock_manager = "lockd"\nmigration_address = "%s"\n' \
      "$ip" > "$dir/etc/qemu.conf"
  mkdir -p "$R/lockspace"
  printf 'auto_disk_leases = 1\nrequire_lease_for_disks = 1\nfile_lockspace_dir = "%s"\n' "$R/lockspace" \
      > "$dir/etc/qemu-lockd.conf"
  printf 'unix_sock_dir = "/run/libvirt"\nlisten_tcp = 1\nlisten_tls = 0\nlisten_addr = "%s"\nauth_tcp = "none"\nhost_uuid = "%s"\n' \
      "$ip" "$(cat /proc/sys/kernel/random/uuid)" > "$dir/libvirtd.conf"
  ip netns add "$name"
  ip link add "m-$name" type veth peer name eth0 netns "$name"
  ip link set "m-$name" master ievbr0 up
  ip -n "$name" addr add "$ip/24" dev eth0
  ip -n "$name" link set eth0 up
  ip -n "$name" link set lo up
  # The guests' network inside the blade: a bridge and its DHCP server. busybox's udhcpc reads raw
  # packets and drops replies whose checksum was left to offload: the bridge computes them itself.
  ip -n "$name" link add br0 type bridge
  ip -n "$name" addr add "192.168.$2.1/24" dev br0
  ip -n "$name" link set br0 up
  ip netns exec "$name" ethtool -K br0 tx off >/dev/null 2>&1 || true
  : > "$dir/dnsmasq.leases"
  ip netns exec "$name" dnsmasq --interface=br0 --bind-interfaces --except-interface=lo --port=0 --no-resolv \
      --no-hosts --dhcp-range="192.168.$2.10,192.168.$2.250,255.255.255.0,2m" --dhcp-leasefile="$dir/dnsmasq.leases" \
      --pid-file="$dir/dnsmasq.pid" --dhcp-authoritative
  daemons_up "$1" "$2"
}

daemons_up() {
  local name=$1 ip=10.203.0.$2 dir=$R/$1
  ip netns exec "$name" unshare --mount --uts --propagation private /bin/sh -ec "hostname $name
    for d in /run/libvirt:run /var/lib/libvirt:lib /etc/libvirt:etc /var/log/libvirt:log /var/cache/libvirt:cache; do
      mount --bind $dir/\${d#*:} \${d%:*}; done
    virtlockd -d -p $dir/virtlockd.pid
    libvirtd --listen -d -f $dir/libvirtd.conf -p $dir/libvirtd.pid"
  for _ in $(seq 300); do virsh -q -c "qemu+tcp://$ip/system" version >/dev/null 2>&1 && break; sleep 0.1; done
  virsh -q -c "qemu+tcp://$ip/system" version >/dev/null 2>&1 || { echo "blade $name did not start" >&2; return 1; }
  echo "$name: qemu+tcp://$ip/system"
}

blade_kill() {
  local name=$1 dir=$R/$1 pid
  for pid in $(ip netns pids "$name"); do
    [ "$(ps -o comm= -p "$pid")" = dnsmasq ] || kill -9 "$pid" 2>/dev/null
  done
  for _ in $(seq 100); do
    [ -z "$(ip netns pids "$name" | xargs -r ps -o comm= -p | grep -v dnsmasq)" ] && break; sleep 0.1
  done
  rm -f "$dir/libvirtd.pid" "$dir/virtlockd.pid" "$dir/run/libvirt-sock" "$dir/run/virtlockd-sock"
  echo "$name killed"
}

blade_signal() {
  local name=$1 sig=$2 pid
  for pid in $(ip netns pids "$name"); do
    [ "$(ps -o comm= -p "$pid")" = dnsmasq ] || kill "-$sig" "$pid" 2>/dev/null
  done
  echo "$name $sig"
}

libvirtd_restart() {
  local name=$1 dir=$R/$1 pid lock
  pid=$(cat "$dir/libvirtd.pid" 2>/dev/null) || { echo "$name: no libvirtd" >&2; return 1; }
  lock=$(cat "$dir/virtlockd.pid")
  kill -9 "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "$dir/libvirtd.pid" "$dir/run/libvirt-sock"
  # Into the blade's namespaces, as virtlockd holds them (its mounts of /run/libvirt and the rest).
  nsenter -t "$lock" -n -m -u libvirtd --listen -d -f "$dir/libvirtd.conf" -p "$dir/libvirtd.pid"
  local ip; ip=$(ip -n "$name" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
  for _ in $(seq 300); do virsh -q -c "qemu+tcp://$ip/system" version >/dev/null 2>&1 && break; sleep 0.1; done
  echo "$name: libvirtd restarted"
}

blade_down() {
  local name=$1 dir=$R/$1 uri="qemu+unix:///system?socket=$R/$1/run/libvirt-sock" d pid
  for d in $(virsh -q -c "$uri" list --all --name 2>/dev/null); do
    virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1; virsh -q -c "$uri" undefine "$d" >/dev/null 2>&1
  done
  if [ -f "$dir/libvirtd.pid" ]; then
    pid=$(cat "$dir/libvirtd.pid"); kill "$pid" 2>/dev/null
    for _ in $(seq 100); do ps -o stat= -p "$pid" 2>/dev/null | grep -qv Z || break; sleep 0.1; done   # a zombie is gone
    rm -f "$dir/libvirtd.pid"
  fi
  if [ -f "$dir/dnsmasq.pid" ]; then kill "$(cat "$dir/dnsmasq.pid")" 2>/dev/null; rm -f "$dir/dnsmasq.pid"; fi
  if [ -f "$dir/virtlockd.pid" ]; then kill "$(cat "$dir/virtlockd.pid")" 2>/dev/null; rm -f "$dir/virtlockd.pid"; fi
  ip link del "m-$name" 2>/dev/null
  ip netns del "$name" 2>/dev/null
  echo "$name down"
}

hub_down() {
  [ -n "$(ls /sys/class/net/ievbr0/brif 2>/dev/null)" ] || ip link del ievbr0 2>/dev/null
}

cmd=${1:-}; shift || true
case "$cmd" in
  up)   hub_up; while [ $# -ge 2 ]; do blade_up "$1" "$2" || exit 1; shift 2; done ;;
  kill) for n in "$@"; do blade_kill "$n"; done ;;
  start) daemons_up "$1" "$2" ;;
  freeze) for n in "$@"; do blade_signal "$n" STOP; done ;;
  thaw) for n in "$@"; do blade_signal "$n" CONT; done ;;
  restart-libvirtd) for n in "$@"; do libvirtd_restart "$n" || exit 1; done ;;
  down) for n in "$@"; do blade_down "$n"; done; hub_down ;;
  *)    sed -n '2,12p' "$0"; exit 2 ;;
esac
