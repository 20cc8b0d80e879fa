#!/usr/bin/env bash
# The comparison of docs/limits.md ("The XML reader"): writes a cascade-shaped document for each
# construct where XML readers differ and prints whether OpenCV's reader (cv::FileStorage), ferx's
# and pugixml accept it, through the fuzz_xml_pugixml harness (preset fuzz).
#   tests/fuzz/xml-constructs.sh [harness binary]
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-$src/build/fuzz/tests/fuzz/fuzz_xml_pugixml}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import os, sys
d = sys.argv[1]
base = '<?xml version="1.0"?>\n<opencv_storage>\n<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>X</cascade>\n</opencv_storage>\n'
inner = {
    "a plain element": "<a>1</a>", "CDATA text": "<a><![CDATA[1 2]]></a>", "a character reference &#49;": "<a>&#49;</a>",
    "an undeclared entity &foo;": "<a>&foo;</a>", "&amp;": "<a>&amp;</a>", "a single-quoted attribute": "<a b='1'/>",
    "a namespace prefix": '<x:a xmlns:x="u">1</x:a>', "a processing instruction inside an element": "<?pi x?><a>1</a>",
    "-- inside a comment": "<!-- a -- b --><a>1</a>", "< in an attribute value": '<a b="<"/>', "> in text": "<a>1 > 0</a>",
    "an attribute given twice": '<a b="1" b="2"/>', "a tag name starting with a digit": "<1a>2</1a>",
    "a space before > of a closing tag": "<a>1</a >", "an empty element": "<a></a>", "a non-ASCII tag name": "<\u00e9>1</\u00e9>",
}
docs = {k: base.replace("X", v) for k, v in inner.items()}
docs["a DOCTYPE with an internal entity"] = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "v">]>\n<opencv_storage><a>&e;</a></opencv_storage>\n'
docs["two root elements"] = '<?xml version="1.0"?>\n<opencv_storage><a>1</a></opencv_storage>\n<second/>\n'
docs["text after the root element"] = '<?xml version="1.0"?>\n<opencv_storage><a>1</a></opencv_storage>\ntrailing text\n'
docs["a UTF-8 byte-order mark"] = '\ufeff<?xml version="1.0"?>\n<opencv_storage><a>1</a></opencv_storage>\n'
docs["no XML declaration"] = '<opencv_storage><a>1</a></opencv_storage>'
docs["an unclosed root (truncated)"] = '<?xml version="1.0"?>\n<opencv_storage><a>1</a>'
for i, (k, v) in enumerate(docs.items()):
    open(os.path.join(d, "%02d.xml" % i), "w", encoding="utf-8").write(v)
    open(os.path.join(d, "%02d.name" % i), "w").write(k)
PY
printf '| %s | %s | %s | %s |\n|---|---|---|---|\n' construct "OpenCV $(pkg-config --modversion opencv4 2>/dev/null || echo)" ferx pugixml
for f in "$dir"/*.xml; do
  v="$(FERX_XML_DIFF_OPENCV=1 FERX_XML_DIFF_SHOW=1 "$bin" "$f" 2>&1 | sed -n 's/^xml-diff: OpenCV \([a-z]*\), ferx \([a-z]*\), pugixml \([a-z]*\)$/\1 \2 \3/p')"
  read -r cv fx px <<< "$v"
  printf '| %s | %s | %s | %s |\n' "$(cat "${f%.xml}.name")" "$cv" "$fx" "$px"
done
