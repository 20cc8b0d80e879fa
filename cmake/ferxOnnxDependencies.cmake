# The dependencies of the optional component ferx::onnx (ONNX import: ferx/nn/onnx.hpp), found the
# same way in ferx's build tree and by an installed ferxConfig.cmake (which includes this file
# when the component is requested). Never required: sets FERX_ONNX_FOUND, and where both are
# found FERX_ONNX_LIBRARIES (Debian: libonnx-dev and libprotobuf-dev).
set(FERX_ONNX_FOUND FALSE)
set(FERX_ONNX_LIBRARIES "")
# onnx_proto's imported target links protobuf::libprotobuf, which ONNXConfig.cmake does not find
# itself: protobuf first.
find_package(Protobuf QUIET)
if(Protobuf_FOUND AND TARGET protobuf::libprotobuf)
  find_package(ONNX CONFIG QUIET)
  if(ONNX_FOUND AND TARGET onnx_proto)
    set(FERX_ONNX_FOUND TRUE)
    set(FERX_ONNX_LIBRARIES onnx_proto protobuf::libprotobuf)
  endif()
endif()
