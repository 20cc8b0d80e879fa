# The GPU kit (FERX_KIT=ON, preset gpu-kit): test_cuda and every bench_*_cuda relinked with a
# runtime closure a bare GPU machine can run (see docs/gpu-kit.md). tests/CMakeLists.txt and
# benchmarks/CMakeLists.txt call ferx_kit_target(<target>) on those targets; nothing else changes.
#   - OpenCV core, imgproc and objdetect (cv::HOGDescriptor of the learn benchmarks) linked
#     statically; no imgcodecs/videoio: kit_seams.cpp defines cv::imread as a reader of the
#     binary PGM files the kit build decodes from the real images (ferx_kit_predecode).
#   - CUDA runtime static (CUDA::cudart_static); cuBLAS from the GPU machine's CUDA toolkit
#     (libcublasLt is 540 MB and the toolkit here ships no static cuBLAS).
#   - LAPACK/BLAS: Debian's reference liblapack.a / libblas.a (what OpenCV core references),
#     libgfortran and libquadmath static; TBB, Boost.Test, Google Benchmark, protobuf and
#     onnx_proto as shared libraries the kit bundles in lib/.
#   - -Wl,--as-needed; DT_RPATH $ORIGIN/lib:/usr/local/cuda/lib64 (DT_RPATH, not RUNPATH, so that
#     the bundled libraries find each other too).
#   - FERX_KIT defined and .ci/gpu-kit/ferx_kit.hpp force-included: the data folder is
#     $FERX_SHARED_DIR or `shared` beside the binary, not a path fixed at build time.
set(FERX_KIT_DIR "${CMAKE_CURRENT_LIST_DIR}")

if(NOT TARGET ferx_kit_base)
  find_package(OpenCV REQUIRED COMPONENTS core imgproc objdetect)
  find_library(FERX_KIT_OPENCV_OBJDETECT_A libopencv_objdetect.a REQUIRED)
  find_library(FERX_KIT_OPENCV_IMGPROC_A libopencv_imgproc.a REQUIRED)
  find_library(FERX_KIT_OPENCV_CORE_A libopencv_core.a REQUIRED)
  find_library(FERX_KIT_LAPACK_A liblapack.a PATHS /usr/lib/x86_64-linux-gnu/lapack NO_DEFAULT_PATH REQUIRED)
  find_library(FERX_KIT_BLAS_A libblas.a PATHS /usr/lib/x86_64-linux-gnu/blas NO_DEFAULT_PATH REQUIRED)
  find_library(FERX_KIT_Z_A libz.a REQUIRED)
  find_library(FERX_KIT_TBB tbb REQUIRED)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libgfortran.a
                  OUTPUT_VARIABLE FERX_KIT_GFORTRAN_A OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libquadmath.a
                  OUTPUT_VARIABLE FERX_KIT_QUADMATH_A OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT IS_ABSOLUTE "${FERX_KIT_GFORTRAN_A}")
    # No libgfortran-12-dev (gfortran): the runtime libgfortran.so.5 (a dependency of liblapack3),
    # which build.sh then bundles with libquadmath.so.0 (about 3 MB more).
    find_library(FERX_KIT_GFORTRAN_SO NAMES libgfortran.so.5 REQUIRED)
    set(FERX_KIT_GFORTRAN_A "${FERX_KIT_GFORTRAN_SO}")
    set(FERX_KIT_QUADMATH_A "")
  endif()

  add_library(ferx_kit_base INTERFACE)
  target_include_directories(ferx_kit_base INTERFACE "${PROJECT_SOURCE_DIR}/include" ${OpenCV_INCLUDE_DIRS}
    $<TARGET_PROPERTY:xtensor-blas,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_features(ferx_kit_base INTERFACE cxx_std_17)
  # Whatever ferx::ferx asks of its users' compiles (e.g. floating-point contraction flags).
  target_compile_definitions(ferx_kit_base INTERFACE FERX_KIT=1 $<TARGET_PROPERTY:ferx,INTERFACE_COMPILE_DEFINITIONS>)
  target_compile_options(ferx_kit_base INTERFACE $<TARGET_PROPERTY:ferx,INTERFACE_COMPILE_OPTIONS>)
  target_compile_options(ferx_kit_base INTERFACE
    "$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${FERX_KIT_DIR}/ferx_kit.hpp>"
    "$<$<COMPILE_LANGUAGE:CUDA>:SHELL:--pre-include ${FERX_KIT_DIR}/ferx_kit.hpp>")
  target_link_libraries(ferx_kit_base INTERFACE xtensor Threads::Threads
    ${FERX_KIT_OPENCV_OBJDETECT_A} ${FERX_KIT_OPENCV_IMGPROC_A} ${FERX_KIT_OPENCV_CORE_A}
    ${FERX_KIT_TBB} ${FERX_KIT_LAPACK_A} ${FERX_KIT_BLAS_A} ${FERX_KIT_GFORTRAN_A} ${FERX_KIT_QUADMATH_A}
    ${FERX_KIT_Z_A} ${CMAKE_DL_LIBS})
  target_link_options(ferx_kit_base INTERFACE "LINKER:--as-needed" "LINKER:--disable-new-dtags")

  # The kit's host tool: decodes the real images (and Megamind.avi's frames) into PGM at kit-build
  # time, with the full OpenCV of this machine.
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs videoio)
  add_executable(ferx_kit_predecode "${FERX_KIT_DIR}/predecode.cpp")
  target_include_directories(ferx_kit_predecode PRIVATE ${OpenCV_INCLUDE_DIRS})
  target_link_libraries(ferx_kit_predecode PRIVATE opencv_core opencv_imgproc opencv_imgcodecs opencv_videoio)
  target_compile_features(ferx_kit_predecode PRIVATE cxx_std_17)
  # The data check run.sh starts with: the kit's data read through the tests' and benchmarks' code.
  add_executable(ferx_kit_data_check "${FERX_KIT_DIR}/data_check.cpp" "${FERX_KIT_DIR}/kit_seams.cpp")
  target_include_directories(ferx_kit_data_check PRIVATE "${PROJECT_SOURCE_DIR}/benchmarks")
  target_link_libraries(ferx_kit_data_check PRIVATE ferx_kit_base)
  set_target_properties(ferx_kit_data_check PROPERTIES BUILD_WITH_INSTALL_RPATH ON
    INSTALL_RPATH "\$ORIGIN/lib:/usr/local/cuda/lib64")
  # The device probe run.sh starts with (host code only: g++ and the static CUDA runtime).
  add_executable(ferx_kit_probe "${FERX_KIT_DIR}/probe.cpp")
  target_link_libraries(ferx_kit_probe PRIVATE CUDA::cudart_static)
  target_link_options(ferx_kit_probe PRIVATE "LINKER:--as-needed" "LINKER:--disable-new-dtags")
  set_target_properties(ferx_kit_probe PROPERTIES BUILD_WITH_INSTALL_RPATH ON
    INSTALL_RPATH "\$ORIGIN/lib:/usr/local/cuda/lib64")
endif()

# ferx_kit_target(<target>): relinks a test_cuda / bench_*_cuda target as described above.
function(ferx_kit_target target)
  get_target_property(_libs ${target} LINK_LIBRARIES)
  set(_kit_libs ferx_kit_base)
  foreach(_lib IN LISTS _libs)
    if(_lib STREQUAL "ferx::ferx" OR _lib MATCHES "^opencv_")
      continue()  # ferx_kit_base carries the static OpenCV pieces
    elseif(_lib STREQUAL "ferx::onnx" OR _lib MATCHES "TARGET_NAME_IF_EXISTS:ferx::onnx")
      if(TARGET ferx::onnx)
        list(APPEND _kit_libs onnx_proto protobuf::libprotobuf)  # not ferx::onnx: it carries ferx::ferx
      endif()
    elseif(_lib STREQUAL "CUDA::cudart")
      list(APPEND _kit_libs CUDA::cudart_static)
    else()
      list(APPEND _kit_libs ${_lib})
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY LINK_LIBRARIES ${_kit_libs})
  get_target_property(_defs ${target} COMPILE_DEFINITIONS)
  list(FILTER _defs EXCLUDE REGEX "^FERX_(TEST|BENCH)_SHARED_DIR=")
  set_property(TARGET ${target} PROPERTY COMPILE_DEFINITIONS ${_defs})
  target_sources(${target} PRIVATE "${FERX_KIT_DIR}/kit_seams.cpp")
  set_target_properties(${target} PROPERTIES
    CUDA_RUNTIME_LIBRARY Static
    BUILD_WITH_INSTALL_RPATH ON
    INSTALL_RPATH "\$ORIGIN/lib:/usr/local/cuda/lib64")
endfunction()
