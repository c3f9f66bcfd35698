#!/usr/bin/env bash
# Lays out the runtime image's whole filesystem for the Dockerfile's `scratch` stage:
#
#   scripts/image-rootfs.sh BINARY OUTDIR [CA_BUNDLE]
#
# OUTDIR gets /usr/local/bin/amux (debug info stripped), the shared libraries it links and
# their loader (none for a static binary), the CA roots at /etc/ssl/certs/ca-certificates.crt
# (default: this machine's bundle), and /etc/passwd + /etc/group naming the non-root user
# 65532 (`amux`). Used by the Dockerfile's source build and, for prebuilt release binaries, by
# the release workflow on a runner of the binary's own architecture (so no emulation is needed).
set -euo pipefail

bin=${1:?usage: image-rootfs.sh BINARY OUTDIR [CA_BUNDLE]}
out=${2:?usage: image-rootfs.sh BINARY OUTDIR [CA_BUNDLE]}
ca=${3:-/etc/ssl/certs/ca-certificates.crt}

[[ -f "$bin" ]] || { echo "no binary at $bin" >&2; exit 1; }
[[ -f "$ca" ]] || { echo "no CA bundle at $ca (install ca-certificates)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/tmp"
chmod 1777 "$out/tmp"
cp "$bin" "$out/usr/local/bin/amux"
strip --strip-debug "$out/usr/local/bin/amux" 2>/dev/null || true
cp -L "$ca" "$out/etc/ssl/certs/ca-certificates.crt"

# Shared libraries (absolute paths from ldd, the loader included), copied under their own path.
if ldd "$bin" >/dev/null 2>&1; then
  ldd "$bin" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
    mkdir -p "$out$(dirname "$lib")"
    cp -L "$lib" "$out$lib"
  done
fi

printf 'root:x:0:0:root:/:/sbin/nologin\namux:x:65532:65532:amux:/:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\namux:x:65532:\n' >"$out/etc/group"
echo "rootfs in $out: $(du -sh "$out" | cut -f1)"
