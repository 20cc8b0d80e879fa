#!/usr/bin/env bash
# ferx GPU kit: verifies every CUDA path on this machine in one command (docs/gpu-kit.md).
#   ./run.sh RESULTS_DIR
# 0. the data (unpacked into RESULTS_DIR/data, then read by ferx_kit_data_check); 1. device probe;
# 2. test_cuda (log + JUnit XML); 3. compute-sanitizer memcheck and racecheck on a short subset;
# 4. every bench_*_cuda with JSON output. Writes everything into RESULTS_DIR and
# ends with a summary. Exit 1 if any step fails; where there is no CUDA device every step reports
# the "no CUDA device" skip and the exit status is 0.
# Needs: bash, coreutils, tar/gzip; on a GPU machine the CUDA driver, the CUDA 13 toolkit's
# libcublas (/usr/local/cuda/lib64, or $CUDA_HOME/lib64) and compute-sanitizer.
# Environment (all optional): CUDA_HOME; FERX_KIT_MEMCHECK_TESTS / FERX_KIT_RACECHECK_TESTS
# (Boost.Test --run_test filters); FERX_KIT_BENCH_MIN_TIME (seconds, default 0.05).
set -uo pipefail
KIT="$(cd "$(dirname "$0")" && pwd)"
[ $# -eq 1 ] || { echo "usage: $0 RESULTS_DIR" >&2; exit 2; }
OUT="$1"
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
if [ -n "${CUDA_HOME:-}" ]; then export LD_LIBRARY_PATH="$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
export PATH="${CUDA_HOME:-/usr/local/cuda}/bin:/usr/local/cuda/bin:$PATH"

MEMCHECK_TESTS="${FERX_KIT_MEMCHECK_TESTS:-integral_cuda:learn_cuda:features_cuda/hog_equals_seq:features_cuda/lbp_equals_seq:clip_descriptors_cuda/lbp_top_equals_seq:detect_cuda/cuda_single_image_and_bad_input:nn_cuda/conv_equals_seq:nn_cuda/other_ops_equal_seq:farneback_cuda/bad_input_raises_ferx_error:tvl1_cuda/bad_input_raises}"
RACECHECK_TESTS="${FERX_KIT_RACECHECK_TESTS:-integral_cuda/equals_seq_on_batches_of_crops:features_cuda/hog_equals_seq:features_cuda/lbp_equals_seq:clip_descriptors_cuda/lbp_top_equals_seq:detect_cuda/cuda_single_image_and_bad_input:nn_cuda/conv_equals_seq}"
MIN_TIME="${FERX_KIT_BENCH_MIN_TIME:-0.05}"
# Time limits per step (seconds): 150 + 90 + 60 + 5 x 45 = 525, so the run ends within 9 minutes
# (plus the unpacking, a few seconds); a step that reaches its limit fails with "timeout".
T_TEST=150 T_MEMCHECK=90 T_RACECHECK=60 T_BENCH=45

start_all=$(date +%s)
summary=()
failed=0
record() {  # record NAME STATUS SECONDS [NOTE]
  summary+=("$(printf '%-22s %-8s %5ss  %s' "$1" "$2" "$3" "${4:-}")")
  [ "$2" = FAIL ] && failed=1
  return 0
}

echo "== ferx GPU kit: $KIT -> $OUT"
[ -f "$KIT/MANIFEST.txt" ] && head -1 "$KIT/MANIFEST.txt"

# Data: unpacked once into RESULTS_DIR/data.
t=$(date +%s)
if [ ! -f "$OUT/data/.complete" ]; then
  rm -rf "$OUT/data" && mkdir -p "$OUT/data"
  tar -C "$OUT/data" -xzf "$KIT/data.tar.gz" && touch "$OUT/data/.complete" ||
    { echo "cannot unpack $KIT/data.tar.gz" >&2; exit 1; }
fi
export FERX_SHARED_DIR="$OUT/data/shared"
export FERX_OPENCV_DATA_DIR="$OUT/data/opencv4"
export FERX_OPENCV_SAMPLES_DIR="$OUT/data/opencv-doc"
# FERX_BENCH_FER_N: the FER2013 training images the kit carries for bench_learn_cuda.
set -a; . "$KIT/kit.env"; set +a
record data ok $(( $(date +%s) - t )) "unpacked into $OUT/data"

# Binaries and their libraries: unpacked into RESULTS_DIR/bin on every run (a second kit run into
# the same RESULTS_DIR gets its own binaries; the unpacking takes a second or two).
if [ -f "$KIT/bin.tar.gz" ]; then
  BIN="$OUT/bin"
  rm -rf "$BIN" && mkdir -p "$BIN"
  tar -C "$BIN" -xzf "$KIT/bin.tar.gz" || { echo "cannot unpack $KIT/bin.tar.gz" >&2; exit 1; }
else
  BIN="$KIT"  # an unpacked kit
fi

# The bundled libstdc++ (Debian 12's) needs glibc 2.36 or newer.
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [ -n "$glibc" ] && [ "$(printf '%s\n2.36\n' "$glibc" | sort -V | head -1)" != 2.36 ]; then
  echo "glibc $glibc: the kit's binaries need glibc 2.36 or newer (built on Debian 12)" >&2
  exit 1
fi

echo "== data (read through the tests' and benchmarks' code, with the kit's reader and paths)"
t=$(date +%s)
"$BIN/ferx_kit_data_check" > "$OUT/data-check.log" 2>&1
rc=$?
cat "$OUT/data-check.log"
if [ $rc -eq 0 ]; then record data-check ok $(( $(date +%s) - t )) "$(tail -1 "$OUT/data-check.log")"
else record data-check FAIL $(( $(date +%s) - t )) "exit $rc, see data-check.log"; fi

echo "== device"
"$BIN/ferx_kit_probe" | tee "$OUT/device.txt"
probe=${PIPESTATUS[0]}
device=yes
if [ "$probe" -eq 3 ]; then device=no; elif [ "$probe" -ne 0 ]; then device=no; echo "probe failed (exit $probe)"; fi
record device "$([ $device = yes ] && echo ok || echo none)" 0 "$(head -1 "$OUT/device.txt")"

echo "== test_cuda"
t=$(date +%s)
timeout $T_TEST "$BIN/test_cuda" --log_level=test_suite --report_level=short --color_output=no \
  "--logger=HRF,test_suite,stdout:JUNIT,all,$OUT/test_cuda.junit.xml" > "$OUT/test_cuda.log" 2>&1
rc=$?
cat "$OUT/test_cuda.log"
skips=$(grep -c "no CUDA device present" "$OUT/test_cuda.log")
if [ $rc -ne 0 ]; then record test_cuda FAIL $(( $(date +%s) - t )) "exit $rc$([ $rc -eq 124 ] && echo " (timeout $T_TEST s)"), see test_cuda.log"
elif [ $device = no ]; then record test_cuda skip $(( $(date +%s) - t )) "no CUDA device: $skips tests skipped with that message; the no-device tests passed"
else
  # With a device, the only skips expected are the no-device tests; any other (data not found,
  # ONNX not compiled in) means a CUDA path went unchecked.
  other=$(grep "is skipped because" "$OUT/test_cuda.log" | grep -vc "a CUDA device is present")
  if [ "$other" -gt 0 ]; then
    grep "is skipped because" "$OUT/test_cuda.log" | grep -v "a CUDA device is present"
    record test_cuda FAIL $(( $(date +%s) - t )) "$other tests skipped for another reason than the device, see test_cuda.log"
  else record test_cuda ok $(( $(date +%s) - t )) "$(grep -m1 -E 'Test module .* (passed|failed)|No errors detected' "$OUT/test_cuda.log")"
  fi
fi

for tool in memcheck racecheck; do
  echo "== compute-sanitizer --tool $tool"
  t=$(date +%s)
  if [ $device = no ]; then
    echo "compute-sanitizer $tool: skipped: no CUDA device"
    record "sanitizer-$tool" skip 0 "no CUDA device"
    continue
  fi
  cs=$(command -v compute-sanitizer || true)
  if [ -z "$cs" ]; then
    echo "compute-sanitizer not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin)"
    record "sanitizer-$tool" FAIL 0 "compute-sanitizer not found"
    continue
  fi
  filter=$([ $tool = memcheck ] && echo "$MEMCHECK_TESTS" || echo "$RACECHECK_TESTS")
  extra=()
  [ $tool = memcheck ] && extra=(--leak-check full)
  limit=$([ $tool = memcheck ] && echo $T_MEMCHECK || echo $T_RACECHECK)
  timeout $limit "$cs" --tool $tool "${extra[@]}" --error-exitcode 99 \
    "$BIN/test_cuda" "--run_test=$filter" --log_level=test_suite --report_level=short --color_output=no > "$OUT/sanitizer-$tool.log" 2>&1
  rc=$?
  tail -25 "$OUT/sanitizer-$tool.log"
  if [ $rc -eq 0 ]; then record "sanitizer-$tool" ok $(( $(date +%s) - t )) "$(grep -m1 'ERROR SUMMARY' "$OUT/sanitizer-$tool.log")"
  else record "sanitizer-$tool" FAIL $(( $(date +%s) - t )) "exit $rc$([ $rc -eq 99 ] && echo ' (sanitizer errors)')$([ $rc -eq 124 ] && echo " (timeout $limit s)"), see sanitizer-$tool.log"
  fi
done

for bench in "$BIN"/bench_*_cuda; do
  name=$(basename "$bench")
  echo "== $name"
  t=$(date +%s)
  timeout $T_BENCH "$bench" --benchmark_min_time="$MIN_TIME" --benchmark_out="$OUT/$name.json" --benchmark_out_format=json \
    > "$OUT/$name.log" 2>&1
  rc=$?
  cat "$OUT/$name.log"
  errors=$(grep -c "ERROR OCCURRED" "$OUT/$name.log")
  nodev=$(grep -c "ERROR OCCURRED: 'no CUDA device present" "$OUT/$name.log")
  if [ $rc -ne 0 ]; then record "$name" FAIL $(( $(date +%s) - t )) "exit $rc$([ $rc -eq 124 ] && echo " (timeout $T_BENCH s)")"
  elif [ $device = no ]; then
    if [ "$errors" -eq "$nodev" ]; then record "$name" skip $(( $(date +%s) - t )) "no CUDA device: $nodev benchmarks skipped with that message"
    else record "$name" FAIL $(( $(date +%s) - t )) "$((errors - nodev)) benchmarks failed for another reason"; fi
  elif [ "$errors" -gt 0 ]; then record "$name" FAIL $(( $(date +%s) - t )) "$errors benchmarks reported an error (missing data?)"
  else record "$name" ok $(( $(date +%s) - t )) "$OUT/$name.json"
  fi
done

echo
echo "== summary ($(( $(date +%s) - start_all )) s)"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.txt"
if [ $failed -ne 0 ]; then echo "ferx GPU kit: FAILED (see the logs in $OUT)"; exit 1; fi
if [ $device = no ]; then echo "ferx GPU kit: no CUDA device: every step skipped with that message; exit 0"; exit 0; fi
echo "ferx GPU kit: all steps passed"
