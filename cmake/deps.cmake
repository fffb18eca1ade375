# Finds lux's dependencies the CMake way and wraps each in one imported
# target (lux::gsl, lux::blas, ...). A missing one stops configuration with
# the Debian package that provides it.

find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "lux needs pkg-config: install the Debian package 'pkg-config' "
                      "(apt-get install pkg-config), or run scripts/setup")
endif()
find_package(Threads REQUIRED)

function(lux_missing what debpkg)
  message(FATAL_ERROR "lux needs ${what}: install the Debian package '${debpkg}' "
                      "(apt-get install ${debpkg}), or run scripts/setup")
endfunction()

function(lux_pkg target pcname debpkg)
  pkg_check_modules(LUXDEP_${target} QUIET IMPORTED_TARGET GLOBAL ${pcname})
  if(NOT LUXDEP_${target}_FOUND)
    lux_missing("${pcname}" "${debpkg}")
  endif()
  add_library(lux::${target} ALIAS PkgConfig::LUXDEP_${target})
endfunction()

lux_pkg(sqlite sqlite3 libsqlite3-dev)
lux_pkg(zmq libzmq libzmq3-dev)
lux_pkg(yaml yaml-0.1 libyaml-dev)
lux_pkg(jansson jansson libjansson-dev)
lux_pkg(blas openblas libopenblas-dev)

# GSL's pkg-config file links GSL's own reference CBLAS; we want OpenBLAS to
# provide CBLAS, so only libgsl itself is taken.
find_path(LUX_GSL_INCLUDE gsl/gsl_rng.h)
find_library(LUX_GSL_LIB gsl)
if(NOT LUX_GSL_INCLUDE OR NOT LUX_GSL_LIB)
  lux_missing("GSL (gsl/gsl_rng.h, libgsl)" libgsl-dev)
endif()
add_library(lux::gsl INTERFACE IMPORTED GLOBAL)
target_include_directories(lux::gsl INTERFACE ${LUX_GSL_INCLUDE})
target_link_libraries(lux::gsl INTERFACE ${LUX_GSL_LIB} lux::blas m)

find_path(LUX_CSV_INCLUDE csv.h)
find_library(LUX_CSV_LIB csv)
if(NOT LUX_CSV_INCLUDE OR NOT LUX_CSV_LIB)
  lux_missing("libcsv (csv.h, libcsv)" libcsv-dev)
endif()
add_library(lux::csv INTERFACE IMPORTED GLOBAL)
target_include_directories(lux::csv INTERFACE ${LUX_CSV_INCLUDE})
target_link_libraries(lux::csv INTERFACE ${LUX_CSV_LIB})
