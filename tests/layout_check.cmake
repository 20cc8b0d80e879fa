# The layout rules of docs/core.md ("Areas and their order"), checked on the source tree:
#  1. every folder of include/ferx/ is an area of the order below (or cuda/, the backend);
#  2. no header includes a header of a higher area (ferx/fwd.hpp counts as core; ferx/ferx.hpp,
#     the umbrella, may include everything and nothing may include it; ferx/cuda/ is outside
#     the order: the CUDA contract of docs/core.md says what its headers include);
#  3. every folder of tests/ is an area (or one of other_test_dirs), and tests/<area>/ holds
#     main.cpp and test_<header>.cpp files, each named after a header of include/ferx/<area>/.
# Invoked by CTest: cmake -DROOT=<source dir> -P layout_check.cmake. Prints every violation and
# fails when there is one.

cmake_minimum_required(VERSION 3.16)

# Areas, lowest first: an area may include itself and the areas before it.
set(areas core imgproc detect features flow nn data learn pipeline)
# Test files that cover several headers of their area (each named here with the reason).
set(exempt_tests
    "tests/nn/test_ops.cpp"  # the small op headers (activation, elementwise, pool, softmax, ...)
    "tests/flow/simd_probe.cpp"  # a probe program built twice (SSE2 and portable loops), not a test file
)

list(JOIN areas " < " order)
# Folders of tests/ that are not areas: the component ferx::onnx (of nn/), the CUDA tests, the
# installed-package consumer, compile-fail sources, shared test support and the libFuzzer harnesses
# (tests/fuzz: one program per input format, named fuzz_<format>.cpp, not Boost.Test files).
set(other_test_dirs onnx cuda consumer compile_fail support fuzz)

if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<ferx source dir> -P layout_check.cmake")
endif()
set(problems "")

function(area_rank area out)
  list(FIND areas "${area}" r)
  set(${out} ${r} PARENT_SCOPE)
endfunction()

# 1. the folders of include/ferx
file(GLOB entries RELATIVE "${ROOT}/include/ferx" "${ROOT}/include/ferx/*")
foreach(e IN LISTS entries)
  if(IS_DIRECTORY "${ROOT}/include/ferx/${e}" AND NOT e STREQUAL "cuda")
    area_rank("${e}" r)
    if(r LESS 0)
      list(APPEND problems "include/ferx/${e}/ is not an area of the order (${order}): add it to docs/core.md and tests/layout_check.cmake")
    endif()
  endif()
endforeach()

# 2. includes
file(GLOB_RECURSE headers RELATIVE "${ROOT}/include" "${ROOT}/include/ferx/*.hpp" "${ROOT}/include/ferx/*.cuh")
set(checked 0)
foreach(h IN LISTS headers)
  if(h STREQUAL "ferx/ferx.hpp" OR h MATCHES "^ferx/cuda/")
    continue()
  endif()
  if(h STREQUAL "ferx/fwd.hpp")
    set(from core)
  else()
    string(REGEX REPLACE "^ferx/([^/]+)/.*" "\\1" from "${h}")
  endif()
  area_rank("${from}" from_rank)
  file(STRINGS "${ROOT}/include/${h}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]ferx/")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"](ferx/[^>\"]+)[>\"].*" "\\1" inc "${line}")
    math(EXPR checked "${checked} + 1")
    if(inc STREQUAL "ferx/ferx.hpp")
      list(APPEND problems "${h} includes the umbrella header ferx/ferx.hpp")
      continue()
    endif()
    if(inc STREQUAL "ferx/fwd.hpp" OR inc MATCHES "^ferx/cuda/")
      continue()
    endif()
    string(REGEX REPLACE "^ferx/([^/]+)/.*" "\\1" to "${inc}")
    area_rank("${to}" to_rank)
    if(to_rank LESS 0)
      list(APPEND problems "${h} includes ${inc}, which is in no area")
    elseif(to_rank GREATER from_rank)
      list(APPEND problems "${h} includes ${inc}: ${from}/ must not include the higher area ${to}/")
    endif()
  endforeach()
endforeach()

# 3. test files
file(GLOB test_dirs RELATIVE "${ROOT}/tests" "${ROOT}/tests/*")
foreach(d IN LISTS test_dirs)
  if(NOT IS_DIRECTORY "${ROOT}/tests/${d}" OR d IN_LIST other_test_dirs)
    continue()
  endif()
  area_rank("${d}" r)
  if(r LESS 0)
    list(APPEND problems "tests/${d}/ is not an area (${order}): its tests belong in the folder of the area whose headers they test")
    continue()
  endif()
  file(GLOB sources RELATIVE "${ROOT}/tests/${d}" "${ROOT}/tests/${d}/*.cpp")
  foreach(s IN LISTS sources)
    if(s STREQUAL "main.cpp" OR "tests/${d}/${s}" IN_LIST exempt_tests)
      continue()
    endif()
    string(REGEX REPLACE "^test_(.*)\\.cpp$" "\\1" stem "${s}")
    if(stem STREQUAL s OR NOT EXISTS "${ROOT}/include/ferx/${d}/${stem}.hpp")
      list(APPEND problems "tests/${d}/${s} is not named after a header: test_<h>.cpp tests include/ferx/${d}/<h>.hpp")
    endif()
  endforeach()
endforeach()

list(LENGTH headers n_headers)
if(problems)
  list(LENGTH problems n)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "layout: ${n} problem(s):\n  ${text}")
endif()
message(STATUS "layout: ${n_headers} headers, ${checked} ferx includes, areas in order (${order}): no problems")
