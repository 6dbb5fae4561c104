#!/usr/bin/env bash
# The GPU run, in one call on the GPU machine (which has the NVIDIA driver, CUDA and PyTorch but no
# .NET): unpacks what prepare.sh built, finds cuBLAS, then runs (1) the op-by-op suite on the GPU,
# (2) the Qwen2-0.5B-shaped benchmark against PyTorch eager, (3) a pipeline on the GPU, each under
# its own time limit, and prints a summary table last. Results are written under $OUT (or ./gpu-run).
#   bash scripts/gpu/run.sh [device]        device: cuda (default) or cpu-accelerator, to try the script here
# Environment: STEPS_SCALE (pipeline, default 1), SUITE_S / BENCH_S / PIPELINE_S (time limits in seconds).
set -uo pipefail
cd "$(dirname "$0")/../.."
device="${1:-cuda}"
results="${OUT:-$PWD/gpu-run}"
mkdir -p "$results"
work="${TMPDIR:-/tmp}/rlhfsharp-device"
rm -rf "$work" && mkdir -p "$work"
tar -C "$work" -xJf artifacts/device.tar.xz
app="$work/device"

# cuBLAS: the CUDA 13 library, from the toolkit or from PyTorch's nvidia-cublas wheel.
if [ -z "${RLHFSHARP_CUBLAS:-}" ]; then
  wheel=$(python3 -c 'import os, nvidia.cublas as c; print(os.path.join(os.path.dirname(c.__file__), "lib"))' 2>/dev/null || true)
  RLHFSHARP_CUBLAS="$( (ldconfig -p 2>/dev/null | awk '/libcublas\.so\.1[23] /{print $NF}'; \
    [ -n "$wheel" ] && ls "$wheel"/libcublas.so.1[23]* 2>/dev/null; \
    find /usr/local /usr/lib /opt -name 'libcublas.so.1[23]*' 2>/dev/null) | grep -v 'Lt' | head -1)"
  export RLHFSHARP_CUBLAS
fi
echo "cuBLAS: ${RLHFSHARP_CUBLAS:-not found}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"

status() { if [ "$1" -eq 0 ]; then echo pass; elif [ "$1" -eq 124 ]; then echo "timed out"; else echo "fail ($1)"; fi; }

# (1) The op suite: every kernel forward and backward against the CPU engine, on the GPU.
export RLHFSHARP_TEST_DEVICE=$([ "$device" = cuda ] && echo cuda || echo cpu-accelerator)
timeout "${SUITE_S:-150}" "$app/RlhfSharp.Tensors.Gpu.Tests" >"$results/suite.txt" 2>&1
suite=$?
suite_line=$(grep -a "Total:" "$results/suite.txt" | tail -1 | sed 's/\x1b\[[0-9;]*m//g' | sed 's/^ *//')

# (2) The benchmark, ours and PyTorch's in the same call.
preset=$([ "$device" = cuda ] && echo qwen2-0.5b || echo tiny)
peer=$([ "$device" = cuda ] && echo --vs-torch || echo)
timeout "${BENCH_S:-240}" "$app/RlhfSharp.Bench" gpu --device "$device" --preset "$preset" $peer --python "$(command -v python3)" >"$results/bench.jsonl" 2>"$results/bench.err"
bench=$?

# (3) The pipeline on the GPU.
(cd "$app" && timeout "${PIPELINE_S:-300}" ./rlhf pipeline --out "$results/pipeline" --device "$device" --steps_scale "${STEPS_SCALE:-1}") >"$results/pipeline.txt" 2>&1
pipeline=$?

field() { grep -a "\"case\":\"$1\"" "$results/bench.jsonl" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" | head -1; }
echo
echo "| check | result | figures |"
echo "|---|---|---|"
echo "| op suite on $device | $(status $suite) | ${suite_line:-no summary} |"
echo "| train step (bench) | $(status $bench) | tokens/s $(field gpu_train_step tokens_per_s), MFU $(field gpu_train_step mfu), torch tokens/s $(field gpu_train_step torch_tokens_per_s), ratio $(field gpu_train_step ratio), transfers/step $(field gpu_train_step transfers_per_step) |"
echo "| generation (bench) | $(status $bench) | tokens/s $(field gpu_generate tokens_per_s), HBM bound $(field gpu_generate hbm_bound_fraction), torch tokens/s $(field gpu_generate torch_tokens_per_s), ratio $(field gpu_generate ratio) |"
echo "| pipeline on $device | $(status $pipeline) | $(grep -a '^| ppo\|^| dpo\|^| grpo' "$results/pipeline.txt" | tr '\n' ' ' | cut -c1-300) |"
