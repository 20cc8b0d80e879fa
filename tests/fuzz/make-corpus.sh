#!/usr/bin/env bash
# Gathers the seed corpora of the libFuzzer harnesses (tests/fuzz) into <out>/<harness>/ from the
# real files: OpenCV's cascades (opencv-data, /usr/share/opencv4), the shared data and models
# (FERX_SHARED_DIR, default ../shared beside the source), ferx's own model files, and the small
# hand-written seeds of tests/fuzz/seeds/. Nothing here is committed: it is made at run time.
#   tests/fuzz/make-corpus.sh [out]      (default build/fuzz/corpus)
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$src/build/fuzz/corpus}"
shared="${FERX_SHARED_DIR:-$src/../shared}"
opencv="${FERX_OPENCV_DATA:-/usr/share/opencv4}"
seeds="$src/tests/fuzz/seeds"
mkdir -p "$out"
for h in cascade xml_pugixml onnx model ckplus_index fer2013_index fer2013_csv flo kitti_flow ntu_skeleton; do
  rm -rf "$out/fuzz_$h"
  mkdir -p "$out/fuzz_$h"
done

# Cascades: every OpenCV cascade cut to its first 1 and 3 stages (features renumbered, so each cut
# is a valid cascade of a few KB), the whole files of at most 64 KiB, and the hand-written seeds.
python3 - "$opencv" "$out/fuzz_cascade" <<'PY'
import os, sys, xml.etree.ElementTree as ET
src, dst = sys.argv[1], sys.argv[2]
def items(el): return [c for c in el if c.tag == "_"]
def cut_new(root, c, n):
    lbp = c.find("featureType").text.strip() == "LBP"
    step = 11 if lbp else 4
    stages = c.find("stages")
    for s in items(stages)[n:]: stages.remove(s)
    used = []
    for s in items(stages):
        for w in items(s.find("weakClassifiers")):
            v = w.find("internalNodes").text.split()
            for k in range(2, len(v), step):
                if int(v[k]) not in used: used.append(int(v[k]))
    renum = {f: i for i, f in enumerate(sorted(used))}
    for s in items(stages):
        for w in items(s.find("weakClassifiers")):
            v = w.find("internalNodes").text.split()
            for k in range(2, len(v), step): v[k] = str(renum[int(v[k])])
            w.find("internalNodes").text = "\n  " + " ".join(v)
    feats = c.find("features")
    keep = [f for i, f in enumerate(items(feats)) if i in renum]
    for f in items(feats): feats.remove(f)
    for f in keep: feats.append(f)
    sn = c.find("stageNum")
    if sn is not None: sn.text = str(len(items(stages)))
def cut_old(c, n):
    stages = c.find("stages")
    for s in items(stages)[n:]: stages.remove(s)
for d in ("haarcascades", "lbpcascades"):
    folder = os.path.join(src, d)
    if not os.path.isdir(folder): continue
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".xml"): continue
        path = os.path.join(folder, name)
        for n in (1, 3):
            tree = ET.parse(path)
            root = tree.getroot()
            c = root[0] if root.tag == "opencv_storage" else root
            if c.get("type_id") == "opencv-haar-classifier": cut_old(c, n)
            else: cut_new(root, c, n)
            tree.write(os.path.join(dst, "%s.%dstage.xml" % (name[:-4], n)), encoding="unicode", xml_declaration=True)
        if os.path.getsize(path) <= 65536:
            with open(path, "rb") as f, open(os.path.join(dst, name), "wb") as o: o.write(f.read())
PY
cp "$seeds"/cascade/*.xml "$out/fuzz_cascade/"
cp "$out"/fuzz_cascade/* "$out/fuzz_xml_pugixml/"

# ONNX: the shared models of at most 1 MiB (mini-Xception, YuNet, EfficientGCN) and the small
# hand-built graphs of tests/fuzz/seeds/onnx.
if [ -d "$shared/models" ]; then
  find "$shared/models" -name '*.onnx' -size -1024k -exec cp {} "$out/fuzz_onnx/" \;
fi
cp "$seeds"/onnx/*.onnx "$out/fuzz_onnx/" 2>/dev/null || true

# Model files: ferx's shipped pipeline (its body without the end record, so the harness adds a
# right checksum, and whole) and the hand-written sections of tests/fuzz/seeds/model.
for m in "$src"/models/*.ferx "$shared"/models/*.ferx; do
  [ -f "$m" ] || continue
  b="$(basename "$m" .ferx)"
  head -n -1 "$m" > "$out/fuzz_model/$b.body"
  cp "$m" "$out/fuzz_model/$b.ferx"
done
cp "$seeds"/model/* "$out/fuzz_model/"

# Dataset indexes: the first 40 rows and every 25th / 900th row of the real CK+48 and FER2013
# index.csv (whole, they are 982 and 35,888 rows).
if [ -f "$shared/data/ckplus48/index.csv" ]; then
  i="$shared/data/ckplus48/index.csv"
  head -n 41 "$i" > "$out/fuzz_ckplus_index/head.csv"
  awk 'NR == 1 || NR % 25 == 0' "$i" > "$out/fuzz_ckplus_index/every25.csv"
fi
if [ -f "$shared/data/fer2013/index.csv" ]; then
  i="$shared/data/fer2013/index.csv"
  head -n 41 "$i" > "$out/fuzz_fer2013_index/head.csv"
  awk 'NR == 1 || NR % 900 == 0' "$i" > "$out/fuzz_fer2013_index/every900.csv"
fi
cp "$seeds"/ckplus_index/* "$out/fuzz_ckplus_index/"
cp "$seeds"/fer2013_index/* "$out/fuzz_fer2013_index/"

# fer2013.csv: the dataset is not shipped in ../shared; rows made here (three usages, pixel
# values 0..255) and the hand-written seeds.
awk 'BEGIN {
  print "emotion,pixels,Usage";
  split("Training PublicTest PrivateTest", u, " ");
  for (r = 0; r < 3; ++r) {
    s = "";
    for (i = 0; i < 2304; ++i) s = s (i ? " " : "") ((i * 7 + r * 31) % 256);
    print r * 3 "," s "," u[r + 1];
  }
}' > "$out/fuzz_fer2013_csv/three_rows.csv"
cp "$seeds"/fer2013_csv/* "$out/fuzz_fer2013_csv/"

# Flow files: the shared Middlebury / Sintel .flo files (0.8-3.5 MB) cropped to their top-left
# 16x8 and 40x3 vectors (real values, a valid small file), and the hand-written ones; KITTI: the
# shared ground truth (16-bit PNG), its frames (8-bit, refused) and the small hand-made flow PNGs.
if [ -d "$shared/data/flow" ]; then
  find "$shared/data/flow" -name '*.flo' | sort | python3 -c '
import os, struct, sys
out = sys.argv[1]
for k, path in enumerate(l.strip() for l in sys.stdin):
    b = open(path, "rb").read()
    tag, w, h = struct.unpack("<fii", b[:12])
    for cw, ch in ((16, 8), (40, 3)):
        rows = [b[12 + 8 * w * y: 12 + 8 * (w * y + cw)] for y in range(ch)]
        open(os.path.join(out, "real%d_%dx%d.flo" % (k, cw, ch)), "wb").write(struct.pack("<fii", tag, cw, ch) + b"".join(rows))
' "$out/fuzz_flo"
fi
cp "$seeds"/flo/* "$out/fuzz_flo/"
if [ -d "$shared/data/flow/kitti" ]; then
  cp "$shared"/data/flow/kitti/*.png "$out/fuzz_kitti_flow/"
fi
cp "$seeds"/kitti_flow/* "$out/fuzz_kitti_flow/"

# NTU skeletons: the shared sample cut to its first 1, 2 and 5 frames (the frame count rewritten,
# a few KB each), and a hand-written two-body frame.
if [ -d "$shared/data/skeleton/ntu" ]; then
  for f in "$shared"/data/skeleton/ntu/*.skeleton; do
    python3 - "$f" "$out/fuzz_ntu_skeleton" <<'PY'
import os, sys
lines = open(sys.argv[1]).read().split("\n")
frames, pos, starts = int(lines[0]), 1, []
for _ in range(frames):
    starts.append(pos)
    bodies = int(lines[pos]); pos += 1
    for _ in range(bodies):
        pos += 1; joints = int(lines[pos]); pos += 1 + joints
starts.append(pos)
stem = os.path.splitext(os.path.basename(sys.argv[1]))[0]
for k in (1, 2, 5):
    if k <= frames:
        open(os.path.join(sys.argv[2], "%s_%dframes.skeleton" % (stem, k)), "w").write(
            "\n".join([str(k)] + lines[1:starts[k]]) + "\n")
PY
  done
fi
cp "$seeds"/ntu_skeleton/* "$out/fuzz_ntu_skeleton/"

for d in "$out"/fuzz_*; do
  printf '%-22s %4d files %8d KiB\n' "$(basename "$d")" "$(ls "$d" | wc -l)" "$(du -sk "$d" | cut -f1)"
done
