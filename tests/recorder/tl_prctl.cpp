// Test helper: prctl calls whose arg2 is a string for some options only.
// PR_SET_NAME takes a name (captured); PR_SET_DUMPABLE a number (not), even
// when that number is the address of a readable string. The last name lies
// in a file mapping the process never touched: it cannot be read at entry
// and must be read again at exit.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>

int main() {
  static const char kName[] = "tl-cond-name";
  static const char kNotAName[] = "tl-not-a-name";
  if (prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(kName), 0, 0, 0) != 0) return 2;
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return 2;
  // EINVAL: arg2 is no 0 or 1
  if (prctl(PR_SET_DUMPABLE, reinterpret_cast<unsigned long>(kNotAName), 0, 0, 0) == 0) return 2;

  char file[] = "/tmp/tl-prctl-XXXXXX";
  const int fd = mkstemp(file);
  if (fd < 0) return 2;
  static const char kCold[] = "tl-cold-name";
  if (write(fd, kCold, sizeof(kCold)) != static_cast<ssize_t>(sizeof(kCold))) return 2;
  void* mapped = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  unlink(file);
  if (mapped == MAP_FAILED) return 2;
  return prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(mapped), 0, 0, 0) == 0 ? 0 : 2;
}
