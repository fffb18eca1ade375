# lux_add_layer(<name> LIBS <deps...>): the layer's library lux_<name> is
# every .c file in its folder. New files are picked up at the next build.
function(lux_add_layer name)
  cmake_parse_arguments(L "" "" "LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  if(NOT sources)
    return()
  endif()
  add_library(lux_${name} STATIC ${sources})
  target_include_directories(lux_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(lux_${name} PUBLIC lux_common ${L_LIBS})
  set_target_properties(lux_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
