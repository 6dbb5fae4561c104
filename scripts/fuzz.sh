#!/usr/bin/env bash
# Fuzzes RlhfSharp's parsers with AFL++ and SharpFuzz.
#
#   scripts/fuzz.sh <target|all> <seconds> [out-dir]
#
# <target> is one of fuzz/RlhfSharp.Fuzz's targets (scripts/fuzz.sh --list), or all of them one
# after another; <seconds> is the time per target; out-dir (default artifacts/fuzz/out) gets one
# folder per target with AFL's findings, its log and summary.tsv, and a summary.tsv for the run.
# The seeds are fuzz/corpus/<target>/. Environment:
#   FUZZ_JOBS=2        fuzz two targets at once (default 1)
#   FUZZ_NO_BUILD=1    reuse artifacts/fuzz/bin from an earlier run
#   FUZZ_TIMEOUT_MS    the time one input may take before AFL counts a hang (default 5000)
# The harness counts every exception that is not a user error (RlhfSharp.IUserError, or the
# servers' 4xx answers) as a crash, and so is an input that makes a parser allocate over 512 MiB
# or the process heap pass 1 GiB. Exit code: 0 when no target crashed or hung, 1 when one did
# (the crash inputs are listed with their exception), 2 on a usage error, 3 when AFL could not run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
bin="$repo/artifacts/fuzz/bin"     # instrumented: runs only under afl-fuzz
plain="$repo/artifacts/fuzz/plain" # the same build uninstrumented: replays inputs to name their exceptions

usage() { echo "usage: scripts/fuzz.sh <target|all|--list> <seconds> [out-dir]" >&2; exit 2; }

bash scripts/fuzz-setup.sh

build() {
  local stage="$repo/artifacts/fuzz/bin.new"
  rm -rf "$stage"
  dotnet publish fuzz/RlhfSharp.Fuzz -c Release -o "$stage" --nologo -v quiet >&2
  rm -rf "$plain"
  cp -r "$stage" "$plain"
  # Instrument every project assembly the parsers live in (not the harness, not the GPU backend).
  for dll in "$stage"/RlhfSharp.*.dll "$stage"/rlhf.dll; do
    case "$(basename "$dll")" in
      RlhfSharp.Fuzz.dll | RlhfSharp.Tensors.Gpu.dll) continue ;;
    esac
    dotnet tool run sharpfuzz "$dll" >/dev/null
  done
  rm -rf "$bin"
  mv "$stage" "$bin"
}

if [ "${1:-}" = "--list" ]; then
  [ -f "$plain/RlhfSharp.Fuzz.dll" ] || build
  dotnet "$plain/RlhfSharp.Fuzz.dll" --list
  exit 0
fi
[ $# -ge 2 ] || usage
target="$1"
seconds="$2"
out="$(mkdir -p "${3:-$repo/artifacts/fuzz/out}" && cd "${3:-$repo/artifacts/fuzz/out}" && pwd)"
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "fuzz.sh: seconds must be a whole number >= 1, got '$seconds'" >&2; exit 2; }
jobs="${FUZZ_JOBS:-1}"
[[ "$jobs" =~ ^[12]$ ]] || { echo "fuzz.sh: FUZZ_JOBS must be 1 or 2, got '$jobs'" >&2; exit 2; }
timeout_ms="${FUZZ_TIMEOUT_MS:-5000}"

if [ "${FUZZ_NO_BUILD:-}" != "1" ] || [ ! -f "$bin/RlhfSharp.Fuzz.dll" ] || [ ! -f "$plain/RlhfSharp.Fuzz.dll" ]; then
  build
fi
mapfile -t all < <(dotnet "$plain/RlhfSharp.Fuzz.dll" --list | cut -f1)
if [ "$target" = "all" ]; then
  targets=("${all[@]}")
elif printf '%s\n' "${all[@]}" | grep -qx -- "$target"; then
  targets=("$target")
else
  echo "fuzz.sh: unknown target '$target'; valid: all ${all[*]}" >&2
  exit 2
fi

stat() { sed -n "s/^$1 *: *//p" "$2" | head -1; }

# Runs one target; leaves $out/<target>/summary.tsv (or afl.log explaining why AFL did not run).
fuzz_one() {
  local t="$1" dir="$out/$1"
  rm -rf "$dir"
  mkdir -p "$dir/in" "$dir/tmp"
  cp "fuzz/corpus/$t"/* "$dir/in/"
  local dicts=(-x fuzz/dictionaries/json.dict)
  [ "$t" = "config-yaml" ] && dicts+=(-x fuzz/dictionaries/yaml.dict)
  local start end
  start=$(date +%s)
  # dotnet is not AFL-instrumented itself (SharpFuzz reports coverage), so skip AFL's binary check;
  # -m none because the runtime reserves far more address space than it uses (the heap limit
  # below bounds real memory instead).
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_TRY_AFFINITY=0 TMPDIR="$dir/tmp" DOTNET_GCHeapHardLimit=0x40000000 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    afl-fuzz -i "$dir/in" -o "$dir/findings" -t "$timeout_ms" -m none -V "$seconds" "${dicts[@]}" \
    -- dotnet "$bin/RlhfSharp.Fuzz.dll" "$t" >"$dir/afl.log" 2>&1 || true
  end=$(date +%s)
  local stats="$dir/findings/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz.sh: afl-fuzz did not run $t; the end of $dir/afl.log:" >&2
    tail -n 20 "$dir/afl.log" >&2
    return 3
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$((end - start))" "$(stat execs_done "$stats")" \
    "$(stat edges_found "$stats")" "$(stat bitmap_cvg "$stats")" "$(stat saved_crashes "$stats")" \
    "$(stat saved_hangs "$stats")" >"$dir/summary.tsv"
  # Name each crash by its exception and the first project frame it was thrown from.
  : >"$dir/crashes.txt"
  for f in "$dir/findings/default/crashes"/id:*; do
    [ -e "$f" ] || break
    local why
    why=$(TMPDIR="$dir/tmp" timeout 60 dotnet "$plain/RlhfSharp.Fuzz.dll" "$t" "$f" 2>&1 |
      awk '/^Unhandled exception\./ { sub(/^Unhandled exception\. /, ""); e = substr($0, 1, 160) }
           / at RlhfSharp\./ && !/RlhfSharp\.Fuzz\./ && f == "" { f = $0; sub(/^ +/, "", f); sub(/ in \/.*/, "", f) }
           END { print e " @ " f }' || true)
    printf '%s\t%s\n' "$f" "$why" >>"$dir/crashes.txt"
  done
  rm -rf "$dir/tmp"
}

status=0
running=0
for t in "${targets[@]}"; do
  if [ "$jobs" -gt 1 ]; then
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
      wait -n || status=3
      running=$((running - 1))
    fi
  else
    fuzz_one "$t" || status=3
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=3
  running=$((running - 1))
done

{
  printf 'target\tseconds\texecs\tedges\tbitmap\tcrashes\thangs\n'
  for t in "${targets[@]}"; do
    [ -f "$out/$t/summary.tsv" ] && cat "$out/$t/summary.tsv"
  done
} >"$out/summary.tsv"
column -t -s $'\t' "$out/summary.tsv" 2>/dev/null || cat "$out/summary.tsv"

found=0
for t in "${targets[@]}"; do
  [ -f "$out/$t/summary.tsv" ] || continue
  read -r _ _ _ _ _ crashes hangs <"$out/$t/summary.tsv"
  if [ "${crashes:-0}" != "0" ] || [ "${hangs:-0}" != "0" ]; then
    found=1
    echo "$t: $crashes crash(es), $hangs hang(s) under $out/$t/findings/default/"
    sed 's/^/  /' "$out/$t/crashes.txt" | head -n 20
  fi
done
[ "$status" -ne 0 ] && exit "$status"
[ "$found" -eq 0 ] || exit 1
