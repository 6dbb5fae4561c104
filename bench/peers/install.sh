#!/bin/sh
# Installs the PyTorch peer used by `RlhfSharp.Bench --vs-torch`: Debian's python3-torch (CPU) for
# /usr/bin/python3, and OpenBLAS as the system BLAS. Debian's torch links libblas.so.3, which
# defaults to the slow reference BLAS; libopenblas0-pthread registers itself as the preferred one.
# Run as root (or with sudo).
set -eu

need_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null || need_torch=1
need_openblas=0
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need_openblas=1

if [ "$need_torch" -eq 0 ] && [ "$need_openblas" -eq 0 ]; then
    echo "torch peer already installed"
    exit 0
fi

apt-get update
pkgs=""
[ "$need_torch" -eq 1 ] && pkgs="$pkgs python3-torch"
[ "$need_openblas" -eq 1 ] && pkgs="$pkgs libopenblas0-pthread"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
