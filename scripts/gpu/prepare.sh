#!/usr/bin/env bash
# Builds what the GPU run needs, here, for a machine with the NVIDIA driver but no .NET: the CLI,
# the GPU op suite and the benchmark, published self-contained for linux-x64 into one folder
# (they share one copy of the runtime) and packed as artifacts/device.tar.xz, which run.sh unpacks.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=artifacts/device
rm -rf "$out" artifacts/device.tar.xz
mkdir -p "$out"
for project in src/RlhfSharp.Cli tests/RlhfSharp.Tensors.Gpu.Tests bench/RlhfSharp.Bench; do
  dotnet publish "$project" -c Release -r linux-x64 --self-contained true -o "$out" -p:DebugType=none -p:GenerateDocumentationFile=false >/dev/null
done
cp -r bench/peers "$out/peers"
cp -r examples "$out/examples"
tar -C artifacts -cJf artifacts/device.tar.xz device
ls -l artifacts/device.tar.xz
