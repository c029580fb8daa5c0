#include "recorder/cli.h"

int main(int argc, char** argv) { return traceloop::recorder::record_main(argc, argv); }
