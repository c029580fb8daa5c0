# Debian packages with CPack (`cpack -G DEB` in the build directory), split
# like the build:
#   traceloop-tools     component "tools": tl-show, tl-grep, tl-diff,
#                       tl-stats, kubectl-traceloop; reads traces anywhere
#   traceloop-recorder  component "recorder": traceloop-record and its
#                       systemd unit; needs a kernel with BPF and BTF
# A file joins a package by the COMPONENT of its install() rule (tools or
# recorder); nothing else needs to change here. An install() rule without a
# component is an error, so that no file is silently left out of both.
# Dependencies come from the binaries' shared libraries (dpkg-shlibdeps, in
# dpkg-dev), the version from project(VERSION).

get_cmake_property(traceloop_components COMPONENTS)
if("Unspecified" IN_LIST traceloop_components)
  message(FATAL_ERROR "traceloop: an install() rule has no COMPONENT: give it COMPONENT tools or COMPONENT recorder "
                      "(cmake/TraceloopPackage.cmake)")
endif()
set(traceloop_known_components tools)
if(TRACELOOP_BUILD_RECORDER)
  list(APPEND traceloop_known_components recorder)
endif()
foreach(component IN LISTS traceloop_components)
  if(NOT component IN_LIST traceloop_known_components)
    message(FATAL_ERROR "traceloop: install() rule with COMPONENT ${component}: the packages are "
                        "${traceloop_known_components} (cmake/TraceloopPackage.cmake)")
  endif()
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME traceloop)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "traceloop")
set(TRACELOOP_PACKAGE_MAINTAINER "traceloop maintainers <traceloop@localhost>" CACHE STRING
    "Maintainer field of the Debian packages")
set(CPACK_PACKAGE_CONTACT "${TRACELOOP_PACKAGE_MAINTAINER}")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it above each
# component's description, whose first line is that package's summary.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# RelWithDebInfo binaries are mostly debug information.
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL ${traceloop_known_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME traceloop-tools)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "read traceloop's system call traces
tl-show renders a trace (.tl) as a table, strace lines or JSON Lines; tl-grep
finds events, tl-diff shows where two traces diverge, tl-stats summarises.
Traces from any machine, kernel or architecture are read. kubectl-traceloop
reaches the recorder running in a Kubernetes cluster.")
set(CPACK_DEBIAN_TOOLS_PACKAGE_SUGGESTS "kubernetes-client")

set(CPACK_DEBIAN_RECORDER_PACKAGE_NAME traceloop-recorder)
set(CPACK_DEBIAN_RECORDER_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_RECORDER_DESCRIPTION "flight recorder for the system calls of containers (BPF)
traceloop-record records the system calls of one command (run), or keeps the
recent history of every container of the host in memory and saves it as a
trace when the container exits (daemon; systemd unit traceloop.service, which
the installation does not enable).")
set(CPACK_DEBIAN_RECORDER_PACKAGE_RECOMMENDS "traceloop-tools (= ${PROJECT_VERSION})")

include(CPack)
