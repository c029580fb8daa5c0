#pragma once
// Output to a terminal or a pipe: big buffered writes of a std::string, a
// quiet stop when the reader went away (EPIPE: `tl-show big.tl | head`), and
// color only on terminals when NO_COLOR is unset.

#include <cstddef>
#include <ostream>
#include <string>

namespace traceloop::tools {

// True when `fd` is a terminal and the NO_COLOR environment variable is unset or empty.
bool color_wanted(int fd);

// Makes writes to a closed pipe fail with EPIPE instead of killing the process.
// Called once by each tl-* main.
void ignore_sigpipe();

class OutputSink {
 public:
  explicit OutputSink(std::ostream& out, size_t flush_bytes = 256 * 1024);
  ~OutputSink();  // flushes what is left (errors ignored: call flush() to see them)
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  // Renderers append here.
  std::string& buffer() { return buffer_; }
  // Writes the buffer once it is big; returns false once output is closed.
  bool maybe_flush() { return buffer_.size() < flush_bytes_ || flush(); }
  // Writes the buffer now; false when the output is closed or failed.
  bool flush();
  // The reader went away (EPIPE): stop quietly, exit 0.
  bool closed() const { return closed_; }
  // Output failed for another reason (disk full...): an error.
  bool failed() const { return failed_; }

 private:
  std::ostream& out_;
  std::string buffer_;
  size_t flush_bytes_;
  bool closed_ = false;
  bool failed_ = false;
};

}  // namespace traceloop::tools
