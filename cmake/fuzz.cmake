# LUX_FUZZ=ON: the fuzz build (docs/fuzzing.md). Needs clang (Debian's
# clang-14 with libclang-rt-14-dev, which ships libFuzzer's runtime):
#
#   cmake -S . -B build-fuzz -DLUX_FUZZ=ON -DCMAKE_C_COMPILER=clang-14
#
# Every library is compiled with coverage instrumentation for libFuzzer
# (-fsanitize=fuzzer-no-link) and with AddressSanitizer +
# UndefinedBehaviorSanitizer; only the targets in tests/fuzz link libFuzzer's
# main (lux_add_fuzzer). The rest of the tree still configures, so the
# ordinary tests can be built in this tree too, but scripts/fuzz builds only
# the fuzz targets.
option(LUX_FUZZ "Build the libFuzzer targets in tests/fuzz (clang; ASan+UBSan)" OFF)

if(LUX_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LUX_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang-14 "
                        "(Debian packages clang-14 and libclang-rt-14-dev; scripts/setup)")
  endif()
  if(LUX_SANITIZE)
    message(FATAL_ERROR "LUX_FUZZ already builds with ASan+UBSan; leave LUX_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -g)
  # GCC-only warning names in `#pragma GCC diagnostic` lines (runtime/node.c).
  add_compile_options(-Wno-unknown-warning-option)
  add_link_options(-fsanitize=address,undefined)
  set(LUX_TEST_TIMEOUT_SCALE 4)
endif()

# lux_add_fuzzer(<target> SOURCES <files...> LIBS <libs...>)
#
# Builds one libFuzzer target and registers the ctest test fuzz.<target>,
# which runs the target once over its saved corpus, tests/fuzz/corpus/<target>
# (-runs=0: every saved input is executed, nothing new is tried), so a crash
# that was fixed and saved stays fixed. Labelled "fuzz".
function(lux_add_fuzzer target)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${target} ${F_SOURCES})
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${target} PRIVATE ${F_LIBS})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(lux_fuzzers ${target})
  set(corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${target})
  add_test(NAME fuzz.${target}
           COMMAND ${target} -runs=0 -close_fd_mask=3
                   -artifact_prefix=${CMAKE_BINARY_DIR}/fuzz/${target}- ${corpus})
  set_tests_properties(fuzz.${target} PROPERTIES
    TIMEOUT 600 LABELS fuzz
    ENVIRONMENT "OPENBLAS_NUM_THREADS=1;ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()
