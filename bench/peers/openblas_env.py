"""Chooses OpenBLAS's kernel family before torch loads it (import this first in a peer script).

Debian's OpenBLAS misdetects some recent Xeons (e.g. as Prescott) and runs its generic kernels 3-5x
slower, so the family is named from the CPU flags unless OPENBLAS_CORETYPE is already set.
"""
import os


def choose_openblas_coretype():
    if "OPENBLAS_CORETYPE" in os.environ:
        return
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return
    if "avx512f" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif "avx2" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"
