# Compile-fail tests: each tests/compile_fail/<name>.cpp misuses the API and must be rejected by
# a static_assert whose text matches the file's "// expect: <regex>" line. The test builds the
# target (excluded from `all`) and passes when the compiler output matches.
file(GLOB _ferx_cf_sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/*.cpp")
foreach(_src IN LISTS _ferx_cf_sources)
  get_filename_component(_name "${_src}" NAME_WE)
  file(STRINGS "${_src}" _expect REGEX "^// expect: ")
  string(REGEX REPLACE "^// expect: " "" _expect "${_expect}")
  if(NOT _expect)
    message(FATAL_ERROR "${_src} has no '// expect: <regex>' line")
  endif()
  add_executable(compile_fail_${_name} EXCLUDE_FROM_ALL "${_src}")
  target_link_libraries(compile_fail_${_name} PRIVATE ferx::ferx)
  add_test(NAME compile_fail_${_name}
           COMMAND ${CMAKE_COMMAND} --build "${CMAKE_BINARY_DIR}" --target compile_fail_${_name} --config $<CONFIG>)
  set_tests_properties(compile_fail_${_name} PROPERTIES
    PASS_REGULAR_EXPRESSION "${_expect}"
    FAIL_REGULAR_EXPRESSION "ninja: no work to do|is up to date"
    LABELS compile_fail
    # Each runs a build in this build tree: one at a time, and never beside ctest -j peers that do.
    RESOURCE_LOCK ferx_build_tree)
endforeach()
