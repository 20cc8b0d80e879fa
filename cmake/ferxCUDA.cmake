# CUDA detection. FERX_ENABLE_CUDA: AUTO (on where nvcc is found), ON (required), OFF.
# The library itself is header-only either way; this decides whether ferx's own CUDA tests,
# benchmarks and examples are built. Sets FERX_CUDA_ENABLED.
set(FERX_CUDA_ENABLED OFF)
if(NOT FERX_ENABLE_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS "/usr/local/cuda/bin/nvcc")
    set(CMAKE_CUDA_COMPILER "/usr/local/cuda/bin/nvcc" CACHE FILEPATH "CUDA compiler")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Default architectures: Ampere (sm_80) and Hopper (sm_90); override with
    # -DCMAKE_CUDA_ARCHITECTURES=... (e.g. "native" on a machine with a GPU).
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(FERX_CUDA_ENABLED ON)
    message(STATUS "ferx: CUDA backend enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(FERX_ENABLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ferx: FERX_ENABLE_CUDA=ON but no CUDA compiler was found")
  else()
    message(STATUS "ferx: no CUDA compiler found; the CUDA backend is not built")
  endif()
endif()
