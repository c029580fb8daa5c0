# traceloop_warnings(TARGET): the project's warning set, applied per target so
# third-party and generated code (Cap'n Proto, skeletons) keep their own.
function(traceloop_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(TRACELOOP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
