# Warnings for the project's own code (generated code is compiled without them).
function(htx_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(HTX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# htx_library(NAME <target> SRCS <files> DEPS <targets>)
function(htx_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  htx_warnings(${ARG_NAME})
endfunction()

# htx_test(NAME <target> SRCS <files> DEPS <targets> [LABELS <labels>])
# One GoogleTest binary, registered test by test with CTest.
function(htx_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  htx_warnings(${ARG_NAME})
  set(properties TIMEOUT 300)
  if(ARG_LABELS)
    list(APPEND properties LABELS ${ARG_LABELS})
  else()
    list(APPEND properties LABELS unit)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${ARG_NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ${properties}
    DISCOVERY_TIMEOUT 60)
endfunction()
