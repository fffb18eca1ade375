# lux_add_test(<module> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>])
#
# Builds one test executable and registers one ctest test per case, named
# <module>.<case>, by reading the LUX_TEST(name) / LUX_TEST_T(name, seconds)
# lines of the sources. Each case runs alone (`<module> --run <case>`), with
# ctest's timeout a little above the case's own. Adding a case to a source
# re-runs the configuration automatically.
function(lux_add_test module)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${module} ${T_SOURCES})
  target_link_libraries(${module} PRIVATE lux_test_harness ${T_LIBS})
  if(TARGET lux)
    target_compile_definitions(${module} PRIVATE LUX_TEST_LUX_BINARY="$<TARGET_FILE:lux>")
    add_dependencies(${module} lux)
  endif()
  foreach(src ${T_SOURCES})
    get_filename_component(path ${src} ABSOLUTE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
    file(STRINGS ${path} lines REGEX "^LUX_TEST(_T)?\\(")
    foreach(line ${lines})
      if(line MATCHES "^LUX_TEST_T\\(([A-Za-z0-9_]+), *([0-9]+)\\)")
        set(case ${CMAKE_MATCH_1})
        set(seconds ${CMAKE_MATCH_2})
      elseif(line MATCHES "^LUX_TEST\\(([A-Za-z0-9_]+)\\)")
        set(case ${CMAKE_MATCH_1})
        set(seconds 60)
      else()
        continue()
      endif()
      math(EXPR limit "${seconds} * ${LUX_TEST_TIMEOUT_SCALE} + 15")
      add_test(NAME ${module}.${case} COMMAND ${module} --run ${case})
      set_tests_properties(${module}.${case} PROPERTIES
        TIMEOUT ${limit}
        LABELS "${T_LABELS}"
        ENVIRONMENT "LUX_TEST_TIMEOUT_SCALE=${LUX_TEST_TIMEOUT_SCALE}")
    endforeach()
  endforeach()
endfunction()
