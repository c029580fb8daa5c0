#pragma once
// Command line of traceloop-record (CLI11). Returns the process exit status.

namespace traceloop::recorder {

int record_main(int argc, char** argv);

}  // namespace traceloop::recorder
