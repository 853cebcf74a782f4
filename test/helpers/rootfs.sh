#!/bin/bash
# Assembles a small root filesystem from this machine's own programs (bash, coreutils, git, patch,
# python3 with its standard library, the given node binary) and their libraries, as a tarball that
# `podman import` turns into a toolchain image for the container tests.
# usage: rootfs.sh OUT_TAR NODE_BIN
set -euo pipefail
out=$1; node=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
bins="bash sh cat ls cp mv rm mkdir rmdir ln chmod chown touch head tail sort uniq wc cut tr tee env date sleep timeout mktemp basename dirname readlink realpath base64 sha256sum md5sum seq printf echo test expr id uname stat du df find xargs grep egrep sed awk mawk tar gzip diff cmp patch git kill ps true false nproc yes od dd sync which python3"
files=()
for b in $bins; do p=$(PATH=/usr/bin:/bin type -P "$b" || true); [ -n "$p" ] && files+=("$p"); done
py=$(readlink -f /usr/bin/python3)
files+=("$py")
copy() { local f=$1; mkdir -p "$root$(dirname "$f")"; cp -a "$f" "$root$f"; if [ -L "$f" ]; then local t; t=$(readlink -f "$f"); mkdir -p "$root$(dirname "$t")"; cp -a "$t" "$root$t"; fi; }
for f in "${files[@]}"; do copy "$f"; done
mkdir -p "$root/usr/lib"
cp -a /usr/lib/git-core "$root/usr/lib/"
mkdir -p "$root/usr/share"; cp -a /usr/share/git-core "$root/usr/share/" 2>/dev/null || true
pyv=$(basename "$py")
cp -a "/usr/lib/$pyv" "$root/usr/lib/"
rm -rf "$root/usr/lib/$pyv/test" "$root/usr/lib/$pyv/site-packages" "$root/usr/lib/$pyv/dist-packages" "$root/usr/lib/$pyv/idlelib" "$root/usr/lib/$pyv/tkinter"
mkdir -p "$root/usr/local/bin"; cp "$node" "$root/usr/local/bin/node"
# libraries of every ELF file
find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -print0 | while IFS= read -r -d '' f; do { ldd "$f" 2>/dev/null || true; } | awk '/=> \//{print $3} /^\s*\/lib/{print $1}'; done | sort -u | while read -r lib; do copy "$lib"; done
for l in /lib64/ld-linux-x86-64.so.2; do [ -e "$l" ] && copy "$l"; done
# merged-usr links
for d in bin sbin lib lib64; do if [ -L "/$d" ]; then if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then cp -a "$root/$d/." "$root/usr/$d/"; rm -rf "$root/$d"; fi; ln -sfn "usr/$d" "$root/$d"; fi; done
mkdir -p "$root/etc" "$root/tmp" "$root/root" "$root/testbed" "$root/proc" "$root/dev" "$root/sys"
chmod 1777 "$root/tmp"
echo 'root:x:0:0:root:/root:/bin/bash' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
tar -C "$root" -cf "$out" .
