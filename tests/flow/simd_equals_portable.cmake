# Runs the two flow probes (tests/flow/simd_probe.cpp) and fails unless their files are equal.
foreach(_p SIMD PORTABLE)
  execute_process(COMMAND ${${_p}} ${OUT}/flow_probe_${_p}.bin RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${${_p}} failed: ${_rc}")
  endif()
endforeach()
file(SIZE ${OUT}/flow_probe_SIMD.bin _size)
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT}/flow_probe_SIMD.bin ${OUT}/flow_probe_PORTABLE.bin
                RESULT_VARIABLE _diff)
if(NOT _diff EQUAL 0)
  message(FATAL_ERROR "the SSE2 and portable flows differ (${_size} bytes each)")
endif()
message(STATUS "SSE2 and portable flows are equal (${_size} bytes each)")
