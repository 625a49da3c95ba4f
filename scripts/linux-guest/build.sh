#!/usr/bin/env bash
# Builds a small Linux guest that checks Hornbill's NVMe/TCP target with the Linux kernel's own
# initiator (nvme-tcp) and nvme-cli: Debian's cloud kernel, and an initramfs with busybox, nvme-cli,
# fio and the guest's check script. Everything comes from Debian packages.
#
#   scripts/linux-guest/build.sh OUTDIR
#
# writes OUTDIR/vmlinuz and OUTDIR/initrd.img. Boot them with scripts/linux-guest/run.sh.
# Needs: qemu-system-x86 busybox-static nvme-cli fio kmod cpio (scripts/test.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# The kernel: the newest Debian cloud image (virtio drivers and the NVMe fabrics modules).
kernel_package() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }'; }
package="$(kernel_package)"
if [[ -z "$package" ]]; then
    apt-get update -qq
    package="$(kernel_package)"
fi
if [[ -z "$package" ]]; then
    echo "build.sh: apt-cache does not know linux-image-cloud-amd64; even after apt-get update" >&2
    exit 1
fi
stamp="$out/.built-from"
inputs="$package $(sha256sum "$here/build.sh" "$here/init" "$here/nvme-check.sh" | awk '{ print $1 }' | tr '\n' ' ')"
if [[ -f "$out/vmlinuz" && -f "$out/initrd.img" && "$(cat "$stamp" 2>/dev/null)" == "$inputs" ]]; then
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$package" >/dev/null 2>&1) || {
    echo "build.sh: cannot download $package" >&2
    exit 1
}
dpkg-deb -x "$work"/"$package"_*.deb "$work/kernel"
release="${package#linux-image-}"
cp "$work/kernel/boot/vmlinuz-$release" "$out/vmlinuz"

root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,lib/modules}
cp /bin/busybox "$root/bin/busybox"

# The modules the check needs, in load order (dependencies first).
modules="$work/kernel/lib/modules/$release"
depmod -b "$work/kernel" "$release"
: >"$root/lib/modules/load-order"
for module in virtio_pci virtio_net nvme-tcp; do
    for path in $(modprobe -d "$work/kernel" -S "$release" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'); do
        name="$(basename "$path")"
        if ! grep -qx "$name" "$root/lib/modules/load-order"; then
            cp "$path" "$root/lib/modules/$name"
            echo "$name" >>"$root/lib/modules/load-order"
        fi
    done
done
[[ -s "$root/lib/modules/load-order" ]] || { echo "build.sh: no modules found in $modules" >&2; exit 1; }

# nvme-cli and fio with every shared library they load.
copy_with_libraries() {
    local binary="$1"
    install -D "$binary" "$root$binary"
    ldd "$binary" | awk '/=> \// { print $3 } /^\s*\/lib/ { print $1 }' | while read -r library; do
        install -D "$(readlink -f "$library")" "$root$library"
    done
}
copy_with_libraries "$(command -v nvme)"
copy_with_libraries "$(command -v fio)"
mkdir -p "$root/lib64"
cp /lib64/ld-linux-x86-64.so.2 "$root/lib64/" 2>/dev/null || true

install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/nvme-check.sh" "$root/nvme-check.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$out/initrd.img")
echo "$inputs" >"$stamp"
