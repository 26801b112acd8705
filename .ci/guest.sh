#!/usr/bin/env bash
# A real guest OS for the end-to-end tests, built from this machine's own packages (nothing is downloaded):
#   .ci/guest.sh [DIR]     writes DIR/vmlinuz and DIR/initrd.img (default /tmp/ie-virsh-guest)
# The kernel is the host's (linux-image-amd64). The initramfs holds a static busybox, the virtio, ACPI
# button, evdev, IDE CD-ROM and ISO 9660 modules of that kernel, qemu-ga and dropbear (an SSH server)
# with their libraries. Its /init takes DHCP on every NIC, runs the guest agent on the
# org.qemu.guest_agent.0 port, powers off on the ACPI power button (so Halted's shutdown is a real one)
# and keeps a shell on ttyS0 (the serial console). As a cloud image's cloud-init does with a NoCloud
# seed (a CD labelled cidata), it sets the host name from meta-data's local-hostname and gives the
# image's user, debian, meta-data's public-keys; dropbear then serves SSH on port 22 (keys only).
# Boot it with <kernel>DIR/vmlinuz</kernel><initrd>DIR/initrd.img</initrd><cmdline>console=ttyS0</cmdline>
# under TCG (<domain type='qemu'>): about 7 s here. The files are world-readable: QEMU runs as the student.
set -euo pipefail
OUT=${1:-/tmp/ie-virsh-guest}
KVER=$(ls /lib/modules | sort -V | tail -1)
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || { echo "guest.sh: no $KERNEL (apt install linux-image-amd64)" >&2; exit 1; }
for tool in busybox qemu-ga cpio dropbear; do
  command -v "$tool" >/dev/null || { echo "guest.sh: $tool is missing (busybox-static, qemu-guest-agent, cpio, dropbear-bin)" >&2; exit 1; }
done
# grep reads the whole list: with pipefail, a grep -q that stops early may leave busybox a SIGPIPE (exit 141).
busybox --list | grep -x udhcpc >/dev/null || { echo "guest.sh: busybox has no udhcpc (use busybox-static)" >&2; exit 1; }

# Rebuilt only when an input is newer than the image.
if [ -s "$OUT/initrd.img" ] && [ "$OUT/initrd.img" -nt "$KERNEL" ] && [ "$OUT/initrd.img" -nt "$0" ] \
   && [ "$OUT/initrd.img" -nt "$(command -v qemu-ga)" ] && [ "$OUT/initrd.img" -nt "$(command -v dropbear)" ]; then
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R"/{bin,sbin,dev,proc,sys,run,tmp,etc,lib/modules,var/run}

cp "$(command -v busybox)" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
ldd "$R/bin/busybox" >/dev/null 2>&1 && { echo "guest.sh: busybox is not static (apt install busybox-static)" >&2; exit 1; }

# Modules, dependencies first, in the order modules.dep gives them (virtio_ring before virtio, ...).
M=/lib/modules/$KVER
order=()
add_module() { # name-or-path
  local rel=$1 dep
  for seen in "${order[@]:-}"; do [ "$seen" = "$rel" ] && return; done
  for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$M/modules.dep"); do add_module "$dep"; done
  order+=("$rel")
}
for name in virtio_pci virtio_net virtio_console virtio_blk button evdev ata_piix ahci sr_mod isofs; do
  rel=$(awk -F: -v n="/$name.ko" 'index($1, n) && substr($1, length($1) - length(n) + 1) == n { print $1; exit }' "$M/modules.dep")
  rel=${rel:-$(awk -F: -v n="/$name.ko.xz" 'index($1, n) { print $1; exit }' "$M/modules.dep")}
  [ -n "$rel" ] || { echo "guest.sh: no module $name in $M" >&2; exit 1; }
  add_module "$rel"
done
: > "$R/modules.order"
for rel in "${order[@]}"; do
  base=$(basename "$rel")
  case "$base" in
    *.xz) xz -dc "$M/$rel" > "$R/lib/modules/${base%.xz}"; base=${base%.xz} ;;
    *.zst) zstd -qdc "$M/$rel" > "$R/lib/modules/${base%.zst}"; base=${base%.zst} ;;
    *) cp "$M/$rel" "$R/lib/modules/$base" ;;
  esac
  echo "$base" >> "$R/modules.order"
done

# qemu-ga, dropbear and the libraries they link.
for tool in qemu-ga dropbear; do
  cp "$(command -v "$tool")" "$R/sbin/$tool"
  for lib in $(ldd "$(command -v "$tool")" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }'); do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
  done
done
# The image's accounts: root, and debian (the user a base image's descriptor names), keys only.
printf 'root:x:0:0:root:/root:/bin/sh\ndebian:x:1000:1000:debian:/home/debian:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\ndebian:x:1000:\n' > "$R/etc/group"
printf '/bin/sh\n' > "$R/etc/shells"

cat > "$R/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    [ -n "$router" ] && route add default gw "${router%% *}" dev "$interface" 2>/dev/null
    echo "dhcp: $interface $ip" > /dev/kmsg ;;
  deconfig) ifconfig "$interface" 0.0.0.0 ;;
esac
exit 0
EOF

cat > "$R/init" <<'EOF'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in $(cat /modules.order); do insmod /lib/modules/$m 2>/dev/null; done
mdev -s 2>/dev/null
# mdev makes nodes root's 0660; a user logged in over SSH needs these. The guest has no sudo: the
# image's user owns its disk, so what a student (or a test) writes over SSH can reach it.
chmod 666 /dev/null /dev/zero /dev/random /dev/urandom /dev/tty /dev/ptmx 2>/dev/null
chown 1000:1000 /dev/vda 2>/dev/null
ip link set lo up
for n in /sys/class/net/*; do
  i=${n##*/}
  [ "$i" = lo ] && continue
  ip link set "$i" up
  udhcpc -i "$i" -s /udhcpc.sh -f -t 5 -T 1 -A 1 -S >/dev/null 2>&1 &
done
# The guest agent, once its port is there (no udev: find the port by its name in sysfs).
( for _ in $(seq 100); do
    for p in /sys/class/virtio-ports/*; do
      if [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && [ -e "/dev/${p##*/}" ]; then
        exec qemu-ga -m virtio-serial -p "/dev/${p##*/}" -t /run
      fi
    done
    sleep 0.1
  done ) &
# The ACPI power button: its first event powers the guest off.
( for _ in $(seq 50); do
    for e in /sys/class/input/event*; do
      if grep -q "Power Button" "$e/device/name" 2>/dev/null && [ -e "/dev/input/${e##*/}" ]; then
        dd if="/dev/input/${e##*/}" of=/dev/null bs=24 count=1 2>/dev/null
        sync; poweroff -f
      fi
    done
    sleep 0.1
  done ) &
# NoCloud, as cloud-init reads it: the CD-ROM labelled cidata, once its drive is there.
( for _ in $(seq 100); do
    for d in /dev/sr0 /dev/sr1; do
      # The ISO 9660 volume label: 32 bytes at 32808 (the primary volume descriptor's, at 32768, + 40).
      label=$(dd if="$d" bs=1 skip=32808 count=32 2>/dev/null | tr -d ' ')
      [ "$label" = cidata ] || [ "$label" = CIDATA ] || continue
      mkdir -p /seed && mount -t iso9660 -o ro "$d" /seed || continue
      name=$(sed -n 's/^local-hostname: "\([a-z0-9-]*\)"$/\1/p' /seed/meta-data)
      [ -n "$name" ] && hostname "$name"
      mkdir -p /home/debian/.ssh
      sed -n 's/^  - "\(.*\)"$/\1/p' /seed/meta-data | sed 's/\\"/"/g; s/\\\\/\\/g' > /home/debian/.ssh/authorized_keys
      chmod 700 /home/debian /home/debian/.ssh; chmod 600 /home/debian/.ssh/authorized_keys
      chown -R 1000:1000 /home/debian
      echo "nocloud: $name, $(wc -l < /home/debian/.ssh/authorized_keys) keys" > /dev/kmsg
      exit 0
    done
    sleep 0.2
  done ) &
# SSH: keys only (-s), host keys made at the first connection (-R).
mkdir -p /etc/dropbear /home/debian && chmod 700 /home/debian && chown 1000:1000 /home/debian
dropbear -R -s -p 22 2>/dev/null
echo "ie-virsh guest up" > /dev/kmsg
while true; do
  setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
done
EOF
# qemu-ga's guest-shutdown runs shutdown(8): power off at once, as the power button does.
printf '#!/bin/sh\nsync\nexec poweroff -f\n' > "$R/sbin/shutdown"
chmod 755 "$R/init" "$R/udhcpc.sh" "$R/sbin/shutdown"

mkdir -p "$OUT"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.img"
cp "$KERNEL" "$WORK/vmlinuz"
chmod 644 "$WORK/initrd.img" "$WORK/vmlinuz"
mv "$WORK/vmlinuz" "$OUT/vmlinuz"
mv "$WORK/initrd.img" "$OUT/initrd.img"
chmod 755 "$OUT"
echo "guest: $OUT/vmlinuz $OUT/initrd.img ($(du -h "$OUT/initrd.img" | cut -f1), ${#order[@]} modules)"
