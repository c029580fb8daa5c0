# BPF object + skeleton, in the manner of libbpf-bootstrap:
#   clang -target bpf  ->  NAME.bpf.o  ->  bpftool gen skeleton  ->  NAME.skel.h
# bpf_object(NAME SOURCE) defines the INTERFACE target NAME_skel whose include
# directory holds NAME.skel.h. The build needs no root: vmlinux.h comes from
# /sys/kernel/btf/vmlinux when readable, else from bpf/vmlinux_min.h.

find_program(BPF_CLANG NAMES clang clang-14 clang-15 clang-16 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "traceloop: unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(BPF_GENERATED_DIR ${CMAKE_BINARY_DIR}/bpf_generated)
file(MAKE_DIRECTORY ${BPF_GENERATED_DIR})

set(TRACELOOP_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "BTF used to generate vmlinux.h")
if(EXISTS ${TRACELOOP_VMLINUX_BTF})
  add_custom_command(
    OUTPUT ${BPF_GENERATED_DIR}/vmlinux.h
    COMMAND ${BPFTOOL} btf dump file ${TRACELOOP_VMLINUX_BTF} format c > ${BPF_GENERATED_DIR}/vmlinux.h.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${BPF_GENERATED_DIR}/vmlinux.h.tmp ${BPF_GENERATED_DIR}/vmlinux.h
    COMMENT "Generating vmlinux.h from ${TRACELOOP_VMLINUX_BTF}"
    VERBATIM)
else()
  message(STATUS "traceloop: ${TRACELOOP_VMLINUX_BTF} missing, using the committed minimal vmlinux header")
  add_custom_command(
    OUTPUT ${BPF_GENERATED_DIR}/vmlinux.h
    COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/bpf/vmlinux_min.h ${BPF_GENERATED_DIR}/vmlinux.h
    DEPENDS ${PROJECT_SOURCE_DIR}/bpf/vmlinux_min.h
    VERBATIM)
endif()
add_custom_target(bpf_vmlinux_h DEPENDS ${BPF_GENERATED_DIR}/vmlinux.h)

function(bpf_object name source)
  cmake_parse_arguments(BPF "" "" "DEPENDS" ${ARGN})
  set(obj ${BPF_GENERATED_DIR}/${name}.bpf.o)
  set(skel ${BPF_GENERATED_DIR}/${name}.skel.h)
  get_filename_component(src_dir ${source} DIRECTORY)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -I${BPF_GENERATED_DIR} -I${src_dir} -I${PROJECT_SOURCE_DIR}
            -c ${source} -o ${obj}
    # vmlinux.h is produced by a rule of the top directory: depend on its
    # target (a file dependency across directories has no rule here)
    DEPENDS ${source} bpf_vmlinux_h ${BPF_DEPENDS}
    COMMENT "BPF object ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${BPF_GENERATED_DIR})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
