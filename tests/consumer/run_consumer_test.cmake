# Installs the build tree to a temp prefix, configures and builds the
# consumer project against it, runs it, and checks its output.
set(work "${BUILD_DIR}/consumer-test")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/prefix")
# The installed API stands alone: every tradestore header an installed
# header includes is installed too, and none of them is internal/.
set(include_dir "${work}/prefix/include")
file(GLOB_RECURSE headers RELATIVE "${include_dir}" "${include_dir}/tradestore/*.h")
foreach(header ${headers})
  file(STRINGS "${include_dir}/${header}" includes
       REGEX "^#include \"tradestore/")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" included "${line}")
    if(included MATCHES "^tradestore/internal/")
      message(FATAL_ERROR "${header} includes ${included}, which is internal")
    endif()
    if(NOT EXISTS "${include_dir}/${included}")
      message(FATAL_ERROR "${header} includes ${included}, not installed")
    endif()
  endforeach()
endforeach()
# A sanitizer build of the library needs the consumer built the same way.
set(flags "")
if(SANITIZE)
  set(flags "-fsanitize=${SANITIZE}")
endif()
run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${work}/build"
    -DCMAKE_PREFIX_PATH=${work}/prefix -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_CXX_FLAGS=${flags}")
run(${CMAKE_COMMAND} --build "${work}/build" -j2)
run("${work}/build/consumer" "${work}/store.db")
if(NOT last_output STREQUAL "0.25000000@43000.12345678\n")
  message(FATAL_ERROR "unexpected consumer output: '${last_output}'")
endif()
foreach(file bin/tradestore share/man/man1/tradestore.1
             share/bash-completion/completions/tradestore)
  if(NOT EXISTS "${work}/prefix/${file}")
    message(FATAL_ERROR "${file} was not installed")
  endif()
endforeach()
# The Python package, when built, is installed under the prefix and imports
# from there (a store round trip through the installed module).
if(PYTHON AND PYTHON_SITE)
  set(ENV{PYTHONPATH} "${work}/prefix/${PYTHON_SITE}")
  run(${PYTHON} "${CONSUMER_DIR}/consumer.py" "${work}/prefix"
      "${work}/py.db")
  if(NOT last_output STREQUAL "0.25000000@43000.12345678\n")
    message(FATAL_ERROR "unexpected Python output: '${last_output}'")
  endif()
endif()
message(STATUS "consumer built with find_package(tradestore) and ran: ${last_output}")
file(REMOVE_RECURSE "${work}")
