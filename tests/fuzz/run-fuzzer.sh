#!/usr/bin/env bash
# Runs one libFuzzer harness of tests/fuzz for a fixed time from its corpus, with the resource
# limits and the dictionary that harness uses; the corpus folder grows with what it finds.
#   tests/fuzz/run-fuzzer.sh <harness> <seconds> [libFuzzer options...]
# Folders (under FERX_FUZZ_DIR, default build/fuzz): bin = build/fuzz/tests/fuzz, corpus/<harness>/
# (from make-corpus.sh), artifacts/<harness>/ (crash-*, leak-*, timeout-*, oom-*), logs/<harness>.log.
# Exit status: libFuzzer's (0 when nothing was found). Prints "<harness>: <execs> execs, cov <edges>,
# corpus <n> inputs" from the log.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
h="$1"; secs="$2"; shift 2
dir="${FERX_FUZZ_DIR:-$src/build/fuzz}"
bin="$dir/tests/fuzz/$h"
dict="$src/tests/fuzz/dict"
case "$h" in
  fuzz_cascade|fuzz_xml_pugixml) opts=(-max_len=65536 -dict="$dict/cascade.dict") ;;
  fuzz_onnx) opts=(-max_len=1048576 -dict="$dict/onnx.dict") ;;
  fuzz_model) opts=(-max_len=1048576 -dict="$dict/model.dict") ;;
  fuzz_ckplus_index|fuzz_fer2013_index|fuzz_fer2013_csv) opts=(-max_len=65536 -dict="$dict/csv.dict") ;;
  fuzz_flo) opts=(-max_len=16384) ;;
  fuzz_kitti_flow) opts=(-max_len=524288) ;;
  fuzz_ntu_skeleton) opts=(-max_len=65536) ;;
  *) echo "run-fuzzer: unknown harness $h" >&2; exit 2 ;;
esac
mkdir -p "$dir/corpus/$h" "$dir/artifacts/$h" "$dir/logs"
log="$dir/logs/$h.log"
rc=0
# -rss_limit_mb / -malloc_limit_mb: an input that makes ferx allocate more than 2 GiB is a
# finding (oom-*); -timeout: one input running for more than 10 s is a finding (timeout-*).
"$bin" "$dir/corpus/$h" "${opts[@]}" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
  -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/artifacts/$h/" "$@" > "$log" 2>&1 || rc=$?
execs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)"
corp="$(ls "$dir/corpus/$h" | wc -l)"
echo "$h: ${execs:-?} execs, cov ${cov:-?} edges, corpus $corp inputs, exit $rc (log $log)"
if [ "$rc" != 0 ]; then
  grep -E 'ERROR|SUMMARY|fuzz:|Test unit written' "$log" | head -8 >&2 || true
fi
exit "$rc"
