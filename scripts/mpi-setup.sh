#!/usr/bin/env bash
# Installs Open MPI, which data-parallel runs (mpirun -np N dotnet rlhf.dll ...) and their tests
# use: Debian's openmpi-bin (mpirun) and libopenmpi-dev (libmpi.so). Run by .ci/run and by the
# data-parallel tests when mpirun is missing; safe to run by hand or twice.
set -euo pipefail
if command -v mpirun >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libmpi\.so'; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "mpi-setup: Open MPI is missing and this user cannot install it; run 'apt-get install openmpi-bin libopenmpi-dev' as root." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends openmpi-bin libopenmpi-dev
command -v mpirun >/dev/null
