# Included by tests/CMakeLists.txt. The fuzz targets: into unit_tests (their kept corpus, every build) and,
# with TRADESTORE_FUZZ, one libFuzzer executable each (tools/fuzz.sh).
set(fuzz_sources
  fuzz/fuzz_targets.cc
  fuzz/binary_copy_fuzz.cc
  fuzz/decimal_fuzz.cc
  fuzz/dsn_fuzz.cc
  fuzz/flags_fuzz.cc
  fuzz/legacy_row_fuzz.cc
  fuzz/timestamp_fuzz.cc)
target_sources(unit_tests PRIVATE ${fuzz_sources} fuzz/corpus_test.cc)

if(TRADESTORE_FUZZ)
  list(TRANSFORM fuzz_sources PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
  # The flag grammar alone, not the whole CLI with its operations.
  add_library(tradestore_fuzz_targets STATIC ${fuzz_sources}
              "${PROJECT_SOURCE_DIR}/src/tradestore/cli/flags.cc")
  target_link_libraries(tradestore_fuzz_targets PUBLIC tradestore absl::time
                        nlohmann_json::nlohmann_json)
  target_compile_options(tradestore_fuzz_targets PRIVATE ${TRADESTORE_WARNINGS})
  foreach(pair decimal_text:DecimalText timestamp_text:TimestampText
          legacy_row:LegacyRow dsn:Dsn binary_copy_row:BinaryCopyRow
          flags:Flags)
    string(REPLACE ":" ";" parts "${pair}")
    list(GET parts 0 name)
    list(GET parts 1 function)
    add_executable(fuzz_${name} fuzz/fuzz_main.cc)
    target_compile_definitions(fuzz_${name} PRIVATE
      TRADESTORE_FUZZ_TARGET=${function})
    target_link_libraries(fuzz_${name} PRIVATE tradestore_fuzz_targets)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
