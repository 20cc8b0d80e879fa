#!/usr/bin/env bash
# A check of the TV-L1 CUDA backend without a GPU: ferx/cuda/kernels/tvl1.cuh and
# ferx/cuda/dispatch/tvl1.cuh compiled by the host compiler against a small emulation of the
# CUDA runtime (inc/cuda_runtime.h: host memory, synchronous copies) and of kernel launches
# (emu_launch.hpp: every thread of every block in turn; the kernel with __syncthreads runs each
# block as 8 real threads with a std::barrier), the dispatch's `kernel<<<grid, block, 0, s>>>(`
# launches rewritten to emu_launch calls by the regex below. tvl1_emu.cpp compares the flows with
# exec::seq bit for bit (default parameters, gamma, exact median, 3x3 median without early
# stop, float frames, an initial flow, a 3-frame clip against seq and against pair runs) on
# 56x72 crops of the Middlebury frames. What it checks: the order of operations of every kernel,
# the dispatch's levels, buffers, iteration and convergence logic. What it cannot: device
# semantics (the _rn intrinsics, memory visibility, races, launch limits) - that needs a GPU
# (tests/cuda/test_tvl1_cuda.cu). About 4 minutes on 2 shared cores.
#   .ci/cuda-emu/run.sh [SHARED_DIR]     (default ../shared)
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
SHARED="$(realpath -m "${1:-$SRC/../shared}")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 - "$SRC/include/ferx/cuda/dispatch/tvl1.cuh" "$WORK/dispatch_emu.hpp" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
def rep(m):
    fn = 'emu_launch_sync' if 'tvl1_update' in m.group(1) else 'emu_launch'
    return f'{fn}({m.group(2)}, {m.group(3)}, {m.group(1)}, '
s = re.sub(r'([A-Za-z_:][A-Za-z0-9_:<>]*)<<<(.+?), (.+?), 0, ([a-z.()]+)>>>\(', rep, s, flags=re.S)
assert '<<<' not in s
s = s.replace('#include <ferx/cuda/kernels/tvl1.cuh>', '#include "emu_launch.hpp"\n#include <ferx/cuda/kernels/tvl1.cuh>')
open(sys.argv[2], 'w').write(s)
PY
cp "$SRC/.ci/cuda-emu/emu_launch.hpp" "$WORK/"
g++ -std=c++20 -O2 -ffp-contract=off -DNDEBUG -Wno-deprecated-enum-enum-conversion -DFERX_EMU_SHARED_DIR="\"$SHARED\"" -I"$SRC/.ci/cuda-emu/inc" -I"$WORK" \
    -I"$SRC/include" -I/usr/include/opencv4 "$SRC/.ci/cuda-emu/tvl1_emu.cpp" -o "$WORK/tvl1_emu" \
    -lopencv_imgcodecs -lopencv_imgproc -lopencv_core -lpthread
"$WORK/tvl1_emu"
