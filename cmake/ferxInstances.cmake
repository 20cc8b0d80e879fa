# Build time of ferx's own programs: the classical pipeline's exec::seq / exec::par entry points
# compiled once (ferx/pipeline/instances.hpp) instead of in every test, example and benchmark
# translation unit that calls them. Two generated translation units: inference and training, each
# for both policies (measured: splitting them per policy costs more CPU in parse and duplicated
# helpers than it gains in parallelism). Linking a target defines FERX_PIPELINE_EXTERN in its sources.
#   ferx_pipeline_infer      predict_faces, predict, describe_crops, classify_features, preprocess
#   ferx_pipeline_instances  those and fit
# FERX_PIPELINE_INSTANCES=OFF builds every program purely header-only (the same results).
option(FERX_PIPELINE_INSTANCES "Compile the pipeline's seq/par entry points once for ferx's own tests, examples and benchmarks" ON)

if(FERX_PIPELINE_INSTANCES)
  function(_ferx_pipeline_library name)
    set(_srcs "")
    foreach(_bit IN LISTS ARGN)
      set(_src "${PROJECT_BINARY_DIR}/instances/${name}_${_bit}.cpp")
      file(CONFIGURE OUTPUT "${_src}"
           CONTENT "#define FERX_PIPELINE_INSTANTIATE ${_bit}\n#include <ferx/pipeline/instances.hpp>\n" @ONLY)
      list(APPEND _srcs "${_src}")
    endforeach()
    add_library(${name} STATIC ${_srcs})
    target_link_libraries(${name} PUBLIC ferx::ferx)
    target_compile_definitions(${name} INTERFACE FERX_PIPELINE_EXTERN)
  endfunction()
  _ferx_pipeline_library(ferx_pipeline_infer 3)
  _ferx_pipeline_library(ferx_pipeline_fit 12)
  add_library(ferx_pipeline_instances INTERFACE)
  target_link_libraries(ferx_pipeline_instances INTERFACE ferx_pipeline_infer ferx_pipeline_fit)
else()
  add_library(ferx_pipeline_infer INTERFACE)
  add_library(ferx_pipeline_instances INTERFACE)
endif()
