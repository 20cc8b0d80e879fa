#!/usr/bin/env bash
# Builds the GPU kit into OUTDIR (default build/gpu-kit-out): test_cuda and every bench_*_cuda
# for sm_90 (CMake preset gpu-kit), the shared libraries they need beyond glibc, libcuda and the
# CUDA toolkit's cuBLAS, the data they read (decoded to PGM here; packed in data.tar.gz), and
# run.sh; the binaries and libraries packed in bin.tar.gz. Carry OUTDIR to a GPU machine and run
# `OUTDIR/run.sh RESULTS`. See docs/gpu-kit.md.
#   .ci/gpu-kit/build.sh [OUTDIR]      (FERX_KIT_JOBS: build parallelism, default 2)
# Reads ../shared (FERX_SHARED_DIR), /usr/share/opencv4 and opencv-doc's Megamind.avi; never
# commits or changes anything in the source tree.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$(realpath -m "${1:-$SRC/build/gpu-kit-out}")"
SHARED="$(realpath -m "${FERX_SHARED_DIR:-$SRC/../shared}")"
OPENCV_DATA=/usr/share/opencv4
SAMPLES=/usr/share/doc/opencv-doc/examples/data
BUILD="$SRC/build/gpu-kit"
export PATH="/usr/local/cuda/bin:$PATH"
cd "$SRC"

for need in "$SHARED/data/faces" "$SHARED/data/ckplus48" "$SHARED/data/fer2013" "$SHARED/models/mini_xception" \
            "$OPENCV_DATA/haarcascades" "$SAMPLES/Megamind.avi" "$SHARED/data/flow/middlebury" \
            "$SHARED/data/flow/sintel/alley_1/clean" "$SHARED/data/video/mmaction2/test.mp4" "$SAMPLES/basketball1.png"; do
  [ -e "$need" ] || { echo "gpu-kit: $need not found (the kit carries this data)" >&2; exit 1; }
done

# The kit's targets: test_cuda, every benchmarks/bench_*_cuda.cu, the probe and the decoder.
benches=()
for f in benchmarks/bench_*_cuda.cu; do benches+=("$(basename "$f" .cu)"); done
cmake --preset gpu-kit -DFERX_SHARED_DIR="$SHARED" > "$BUILD.configure.log" 2>&1 ||
  { cat "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" -j"${FERX_KIT_JOBS:-2}" --target test_cuda "${benches[@]}" ferx_kit_probe ferx_kit_data_check ferx_kit_predecode

rm -rf "$OUT"
mkdir -p "$OUT/lib"
cp "$BUILD/tests/test_cuda" "$OUT/"
for b in "${benches[@]}"; do cp "$BUILD/benchmarks/$b" "$OUT/"; done
cp "$BUILD/tests/ferx_kit_probe" "$BUILD/tests/ferx_kit_data_check" "$OUT/"
# Host symbol tables stripped (about 5 MB of the 60 MiB; kernel names stay in the fatbins).
strip "$OUT"/test_cuda "$OUT"/bench_*_cuda "$OUT"/ferx_kit_probe "$OUT"/ferx_kit_data_check
cp .ci/gpu-kit/run.sh "$OUT/run.sh"
chmod +x "$OUT/run.sh"

# Libraries: the closure ldd finds here, less what the GPU machine provides (glibc, the driver's
# libcuda, the CUDA toolkit's cuBLAS: libcublasLt alone is 540 MB).
provided='^(linux-vdso\.so|ld-linux-x86-64\.so|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libcuda\.so|libcublas\.so|libcublasLt\.so)'
for bin in "$OUT"/test_cuda "$OUT"/bench_*_cuda "$OUT"/ferx_kit_probe "$OUT"/ferx_kit_data_check; do
  ldd "$bin" | awk '/=>/ {print $1, $3}' | while read -r name path; do
    if [[ "$name" =~ $provided ]] || [[ "$path" == "$OUT/lib/"* ]]; then continue; fi  # provided, or bundled already
    [ -f "$path" ] || { echo "gpu-kit: $bin needs $name, not found here" >&2; exit 1; }
    cp -L "$path" "$OUT/lib/$name"
  done
done

# Data: decoded to PGM (kit_seams.cpp's cv::imread reads it), packed into one file.
stage="$BUILD/kit-data"
rm -rf "$stage"
# FERX_KIT_FER_N: FER2013 training images of the learn benchmarks (bench_learn's default is
# 5000; 2000 keeps the kit under 60 MiB); run.sh sets FERX_BENCH_FER_N to it (kit.env).
FER_N="${FERX_KIT_FER_N:-2000}"
"$BUILD/tests/ferx_kit_predecode" "$SHARED" "$SAMPLES" "$stage" "$FER_N"
echo "FERX_BENCH_FER_N=$FER_N" > "$OUT/kit.env"
mkdir -p "$stage/shared/models/mini_xception" "$stage/opencv4"
cp "$SHARED"/models/mini_xception/fer2013_{mini_XCEPTION.102-0.66,big_XCEPTION.54-0.66}.onnx "$SHARED/models/mini_xception/LICENSE" \
   "$stage/shared/models/mini_xception/"
# Every cascade file a CUDA test or benchmark names.
for x in $(grep -ohE '(haar|lbp)cascades/[A-Za-z0-9_]+\.xml' tests/cuda/*.cu benchmarks/bench_*_cuda.cu | sort -u); do
  mkdir -p "$stage/opencv4/$(dirname "$x")"
  cp "$OPENCV_DATA/$x" "$stage/opencv4/$x"
done
tar -C "$stage" -cf - kit-files.txt shared opencv4 opencv-doc | gzip -9 > "$OUT/data.tar.gz"

{
  echo "ferx GPU kit, built $(date -u +%Y-%m-%dT%H:%MZ) from $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "CUDA architectures: 90 (sm_90 SASS + compute_90 PTX); nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "needs on the GPU machine: glibc 2.36 or newer, the CUDA driver (libcuda.so.1), the CUDA 13 toolkit's libcublas.so.13 and"
  echo "libcublasLt.so.13 (looked up in /usr/local/cuda/lib64, or LD_LIBRARY_PATH / CUDA_HOME/lib64), compute-sanitizer"
  echo "run: ./run.sh RESULTS_DIR"
  echo
  (cd "$OUT" && ls -l --time-style=+ test_cuda bench_*_cuda ferx_kit_probe ferx_kit_data_check run.sh kit.env data.tar.gz lib/* | awk '{print $5, $NF}')
} > "$OUT/MANIFEST.txt"
# The binaries and lib/, packed: gzip -9 takes the CUDA binaries to about 40 % of their size (the
# kit must fit in 60 MiB); run.sh unpacks them into RESULTS_DIR/bin.
(cd "$OUT" && tar -cf - test_cuda bench_*_cuda ferx_kit_probe ferx_kit_data_check lib | gzip -9 > bin.tar.gz &&
   rm -rf test_cuda bench_*_cuda ferx_kit_probe ferx_kit_data_check lib)
echo "binaries and lib/ packed in bin.tar.gz ($(du -k "$OUT/bin.tar.gz" | cut -f1) KiB); run.sh unpacks them into RESULTS_DIR/bin" >> "$OUT/MANIFEST.txt"
echo "gpu-kit: $(du -sh "$OUT" | cut -f1) in $OUT"
