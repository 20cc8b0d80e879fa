# Every public header compiles on its own (a generated translation unit per header, built with
# the tests): a header that forgets an include fails the build. CUDA headers (.cuh) are compiled
# by nvcc where CUDA is enabled.
file(GLOB_RECURSE _ferx_headers RELATIVE "${PROJECT_SOURCE_DIR}/include"
     CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/ferx/*.hpp" "${PROJECT_SOURCE_DIR}/include/ferx/*.cuh")
set(_ferx_header_sources "")
# ferx/nn/onnx.hpp and onnx_export.hpp belong to the optional component ferx::onnx: compiled (and linked to it)
# where the component is built, left out elsewhere.
if(NOT TARGET ferx::onnx)
  list(REMOVE_ITEM _ferx_headers "ferx/nn/onnx.hpp" "ferx/nn/onnx_export.hpp")
endif()
foreach(_h IN LISTS _ferx_headers)
  string(MAKE_C_IDENTIFIER "${_h}" _id)
  if(_h MATCHES "\\.cuh$")
    if(NOT FERX_CUDA_ENABLED)
      continue()
    endif()
    set(_src "${CMAKE_CURRENT_BINARY_DIR}/headers/${_id}.cu")
  else()
    set(_src "${CMAKE_CURRENT_BINARY_DIR}/headers/${_id}.cpp")
  endif()
  # Included twice: the include guard (#pragma once) must hold.
  file(CONFIGURE OUTPUT "${_src}" CONTENT "#include <${_h}>\n#include <${_h}>\n" @ONLY)
  list(APPEND _ferx_header_sources "${_src}")
endforeach()
add_library(ferx_header_tests OBJECT ${_ferx_header_sources})
target_link_libraries(ferx_header_tests PRIVATE ferx::ferx $<TARGET_NAME_IF_EXISTS:ferx::onnx>)
# Self-containment is a property of the includes, not of a GPU: the .cuh checks compile for one
# virtual architecture (PTX only, no SASS), not every CMAKE_CUDA_ARCHITECTURES entry. The real
# CUDA tests and benchmarks compile every architecture.
if(FERX_CUDA_ENABLED)
  set_property(TARGET ferx_header_tests PROPERTY CUDA_ARCHITECTURES 90-virtual)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(ferx_header_tests PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Werror>)
endif()
