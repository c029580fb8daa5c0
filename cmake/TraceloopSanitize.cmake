# TRACELOOP_SANITIZE=ON (clang only): every C and C++ target the project
# compiles is built with AddressSanitizer and UndefinedBehaviorSanitizer, and
# with libFuzzer's coverage instrumentation (fuzzer-no-link) so the fuzz
# targets under tests/fuzz see into the libraries they call. Any report is
# fatal (no recovery): a sanitizer finding fails the test that met it.
#
# Only compiler and linker options of CMake targets are changed: the BPF
# objects, built by custom commands for the bpf target (BpfObject.cmake),
# never see these flags.
option(TRACELOOP_SANITIZE "Build with ASan+UBSan and the libFuzzer targets (clang)" OFF)

if(TRACELOOP_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TRACELOOP_SANITIZE needs clang: configure with "
                        "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=address,undefined -fsanitize=fuzzer-no-link
                      -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# traceloop_unsanitized(TARGET): a program the tests run as a workload (it is
# recorded, or runs inside a container's bare rootfs, statically linked),
# not code under test: its system calls must be its own, and ASan cannot be
# linked statically.
function(traceloop_unsanitized target)
  if(TRACELOOP_SANITIZE)
    target_compile_options(${target} PRIVATE -fno-sanitize=all)
    target_link_options(${target} PRIVATE -fno-sanitize=all)
  endif()
endfunction()

# traceloop_no_fuzz_coverage(TARGET): code no fuzzer calls (the GoogleTest
# programs) skips libFuzzer's coverage instrumentation, which costs about a
# sixth of a sanitized compile; ASan and UBSan stay.
function(traceloop_no_fuzz_coverage target)
  if(TRACELOOP_SANITIZE)
    target_compile_options(${target} PRIVATE -fno-sanitize=fuzzer-no-link)
  endif()
endfunction()
