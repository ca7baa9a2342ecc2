# negatron_subsystem(NAME DEPS...): one shared library per src/ folder, from every .cpp in it.
# Shared, so self-registration (losses, commands) by static initialisers is never dropped by the
# linker, and process-wide state (the logger) exists once.
# Folders add files without touching CMake; dependencies between subsystems are explicit here.
function(negatron_subsystem name)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB _sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${name}/*.cpp")
  if(NOT _sources)  # a subsystem with headers only (so far)
    add_library(negatron_${name} INTERFACE)
    target_include_directories(negatron_${name} INTERFACE "${CMAKE_SOURCE_DIR}/src")
    target_link_libraries(negatron_${name} INTERFACE ${ARG_PUBLIC})
    return()
  endif()
  add_library(negatron_${name} SHARED ${_sources})
  target_include_directories(negatron_${name} PUBLIC "${CMAKE_SOURCE_DIR}/src")
  target_link_libraries(negatron_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  target_compile_options(negatron_${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# negatron_gtest(NAME SOURCES... LIBS ...): a gtest binary registered per test case with ctest.
function(negatron_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE NEGATRON_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  target_include_directories(${name} PRIVATE "${CMAKE_SOURCE_DIR}/tests")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES TIMEOUT 300)
endfunction()
