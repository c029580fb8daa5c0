# traceloop trace file schema.
#
# A .tl file is: a 16-byte file preamble, then a sequence of frames (see
# format/frame.h). Each frame carries one Cap'n Proto message, compressed
# by zstd or LZMA2 on its own or (a compacted trace's events frame and the
# captures frames after it) as a part of one LZMA2 stream, so a reader can
# stream in bounded memory and a file cut short still yields every complete
# frame. The frame type says which root struct below the message holds.
#
# Versioning: the preamble carries major.minor of the format. Readers refuse a
# newer major; a newer minor only adds fields (Cap'n Proto keeps old readers
# working). Fields are never renumbered or removed. Major 2 added the
# predicted event columns (EventBatch.columnEncoding 1), which a format 1
# reader cannot decode. Major 3 added EventBatch.timeUnitNs (a major 2 reader
# would take microseconds for nanoseconds) and allows a header catalogue that
# lists only the syscalls the file's events use. Major 4 added grouped capture
# bytes (columnEncoding 3) and frames compressed by LZMA2 (frame codec 1, see
# format/frame.h). Readers of major 4 read all. Minor 1 added the engine's
# container metadata (image, labels, runtime namespace, init pid). Minor 2
# added Param.variants (shapes chosen by another argument); a reader without
# them decodes such a parameter in its plain shape. Minor 3 added
# Header.fdSnapshots (the fds open when recording began) and
# EventBatch.notices (signal deliveries and thread ends); a reader without
# them shows those fds without their paths, and the calls only. From minor 3
# on, the original size of a cut string array (argv, now envp too) or run of
# directory records is the bytes kept plus the number of elements left out,
# so that their count is known (before, directory records had their byte
# length there). Major 5 added captures frames (frame type 5, CaptureBytes):
# a compacted trace's events frame keeps every column but the captured bytes
# (columnEncoding 4), which follow it in frames of their own, each holding
# those of a run of consecutive events, so that a copy cut short shows all
# the events of the frame and the data of those whose captures frames
# survived; the frames are parts of one LZMA2 stream (frame codec 2). A
# major 4 reader could not decode such an events frame. Readers of major 5
# read all.
@0xe839cf2774f826e5;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("traceloop::schema");

# ---------------------------------------------------------------- header ----

# Frame type 1, exactly one, first frame of the file.
struct Header {
  recorderVersion @0 :Text;
  hostName @1 :Text;
  kernelRelease @2 :Text;
  arch @3 :Text;                 # "x86_64" or "aarch64": selects struct layouts
  bootToWallNs @4 :Int64;        # wall clock (ns since epoch) = boot-time ns + this
  createdWallNs @5 :Int64;
  capture @6 :CaptureSettings;
  containers @7 :List(Container); # events refer to these by index
  catalogue @8 :Catalogue;        # the syscall catalogue the recorder used: all of it, or (format 3)
                                  # only the entries of the syscall numbers the file's events use
  command @9 :List(Text);         # argv of the traced command (run mode)
  fdSnapshots @10 :List(FdSnapshot); # (minor 3) the fds of processes already running when recording began
}

# The open fds of one process, read from /proc/PID/fd after its recording
# began: what the fds that no recorded call created refer to. Untrusted
# (names of the traced processes' files).
struct FdSnapshot {
  pid @0 :UInt32;                 # thread group id, as events name it
  atNs @1 :UInt64;                # boot-time ns when read
  cwd @2 :Text;                   # working directory; empty: unknown
  fds @3 :List(OpenFd);
  complete @4 :Bool;              # false: fds were left out (limits, unreadable)
}

struct OpenFd {
  fd @0 :Int32;
  target @1 :Text;                # the /proc/PID/fd link: "/etc/passwd", "socket:[123]", "pipe:[45]"
  detail @2 :Text;                # strace -yy's form when it says more ("TCP:[1.2.3.4:80->5.6.7.8:999]"); empty otherwise
  cloexec @3 :Bool;
}

struct CaptureSettings {
  mode @0 :Text;                  # "run", "daemon", "synthetic", "slice"
  syscallFilters @1 :List(Text);  # empty: every syscall
  maxDataBytes @2 :UInt32;        # per-argument data limit
  captureData @3 :Bool;           # false with --no-data
  ringBytes @4 :UInt64;
  budgetBytes @5 :UInt64;         # daemon: history budget of this container
  timestampResolutionNs @6 :UInt32; # event times were floored to this (0: 1 ns, full resolution)
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct Container {
  id @0 :Text;
  name @1 :Text;
  runtime @2 :Text;               # runc, containerd, docker, podman, cri-o, "host"
  podName @3 :Text;
  podNamespace @4 :Text;
  containerName @5 :Text;
  cgroupPath @6 :Text;
  cgroupId @7 :UInt64;
  mountNsId @8 :UInt64;
  annotations @9 :List(KeyValue);
  startedWallNs @10 :Int64;
  exitedWallNs @11 :Int64;        # 0 while running
  image @12 :Text;                # as the engine names it ("bb:local", "docker.io/library/busybox:latest")
  labels @13 :List(KeyValue);     # the engine's own container labels (Docker, containerd), not OCI annotations
  runtimeNamespace @14 :Text;     # containerd namespace ("moby", "k8s.io", "default"); empty elsewhere
  initPid @15 :UInt32;            # host pid of the container's init process as recorded (0 unknown): its
                                  # first successful execve is where the runtime hands over to the entrypoint
}

# ------------------------------------------------------------- catalogue ----

enum ArgKind {
  integer @0;       # signed integer, printed in decimal
  unsigned @1;      # unsigned integer / size
  hex @2;           # integer best shown in hex (addresses given as numbers)
  fd @3;
  dirfd @4;         # fd or AT_FDCWD
  pointer @5;       # opaque user pointer, nothing captured
  path @6;          # NUL-terminated path, captured at entry
  string @7;        # other NUL-terminated string at entry (xattr name, ...)
  bufferIn @8;      # bytes at entry, length from argument lenArg
  bufferOut @9;     # bytes at exit, length from the return value (lenArg = -1) or argument lenArg
  structIn @10;     # fixed-size structure read at entry (structType msghdr: the message header
                    # with what it points to, bpf/traceloop_events.h struct tl_msghdr_head)
  structOut @11;    # fixed-size structure read at exit (only if the call succeeded; msghdr as structIn)
  stringArray @12;  # NULL-terminated array of strings (argv) at entry
  sockaddrIn @13;   # sockaddr at entry, length from argument lenArg
  sockaddrOut @14;  # sockaddr at exit, length pointed to by argument lenArg
  flags @15;        # bit set named by flagSet
  enumValue @16;    # one value of the set named by flagSet
  signal @17;
  mode @18;         # file mode bits (octal)
  pid @19;
  uid @20;
  gid @21;
  structArrayIn @22;  # array of structType, count from argument lenArg, at entry
  structArrayOut @23; # array of structType at exit, count from the return value (lenArg = -1) or argument lenArg
}

# Names, C types, set and struct names are indexes into Catalogue.strings
# (0 is the empty string): the catalogue repeats few distinct strings, and
# fixed-size structs without pointers compress far better.
struct Param {
  name @0 :UInt16;
  cType @1 :UInt16;
  kind @2 :ArgKind;
  lenArg @3 :Int8;       # buffer/sockaddr/array length source: argument index, -1 = return value, -2 = none
  flagSet @4 :UInt16;    # for flags / enumValue: name of the decoder's set ("open_flags", ...)
  structType @5 :UInt16; # for struct kinds: "stat", "statx", "timespec", ...
  structSize @6 :UInt32; # bytes of one structure on the recording architecture
  variants @7 :List(ParamVariant); # (minor 2) other shapes; the first whose selector
                                   # matches wins, the fields above otherwise
}

# Another shape of a parameter, used when (argument `selector` & mask) is one
# of `values` (prctl's arg2 is a string when option is PR_SET_NAME). The
# values are the recording architecture's. Name and C type are the
# parameter's; the other fields mean what they mean in Param.
struct ParamVariant {
  selector @0 :UInt8;    # argument index 0..5, not the parameter itself
  mask @1 :UInt64;
  values @2 :List(UInt64);
  kind @3 :ArgKind;
  lenArg @4 :Int8;
  flagSet @5 :UInt16;
  structType @6 :UInt16;
  structSize @7 :UInt32;
}

enum ReturnKind {
  integer @0;   # -4095..-1 are errors
  fd @1;
  hex @2;       # addresses (mmap, brk)
  pid @3;
  unsigned @4;
  none @5;      # never returns (exit, exit_group) — rendered as X
}

struct Syscall {
  nr @0 :UInt32;
  name @1 :UInt16;        # index into Catalogue.strings
  params @2 :List(Param);
  returns @3 :ReturnKind;
  neverReturns @4 :Bool;  # exit, exit_group, rt_sigreturn
}

struct Catalogue {
  arch @0 :Text;
  syscalls @1 :List(Syscall);
  strings @2 :List(Text);  # strings[0] is ""
}

# ---------------------------------------------------------------- events ----

# Frame type 2. A batch of events in columns. Every column is a Data blob of
# LEB128 varints (unsigned), one value per event unless said otherwise;
# "zigzag" marks signed values mapped to unsigned. Columns compress far better
# than rows: consecutive values of one field are alike.
#
# Four column encodings exist (columnEncoding). Format 1 files use encoding 0
# only; format 2 writers use encoding 1, format 3 writers encoding 2 (which is
# 1 plus captureRepeat and argCode), format 4 writers encoding 3 (2 with the
# captured bytes grouped, and times and results in a part per syscall), and
# format 5 writers 3 and, in a compacted trace, 4 (3 with the captured bytes
# in captures frames, see captureParts). In 1 to 4, several columns store the
# difference from a prediction that encoder and decoder both make from the
# events before, within the batch: the same thread's previous event (time,
# CPU) or the previous event with the same syscall number (argument count,
# arguments, which arguments have captures). A right prediction is a zero, and
# runs of zeros cost almost nothing once compressed. Fields marked [0] are
# used by encoding 0 only, [1] by 1 and up, [2] by 2 and up, [3] by 3 and 4,
# [4] by 4; the others by all.
struct EventBatch {
  count @0 :UInt32;
  columnEncoding @21 :UInt8;  # 0: format 1 columns; 1: predicted columns; 2: predicted, with repeats and coded
                              # arguments; 3: 2 with captured bytes grouped, and per-syscall parts (format 4);
                              # 4: 3 with the captured bytes in the captures frames after the batch's (format 5)
  baseEnterNs @1 :UInt64;    # [0] enterDelta of event 0 is relative to this;
                             # [1] the enterGap of a batch's first event of a thread is too
  enterDelta @2 :Data;       # [0] zigzag(enter_ns - previous enter_ns)
  enterGap @22 :Data;        # [1] zigzag(enter_ns - end of the same thread's previous event in the batch,
                             #     its exit_ns, or its enter_ns if it did not return); a thread's first event:
                             #     zigzag(enter_ns - previous event's enter_ns, or baseEnterNs)
  duration @3 :Data;         # exit_ns - enter_ns; 0 when the call did not return
  tid @4 :Data;              # zigzag(tid - previous tid)
  pidDelta @5 :Data;         # tid - pid (0 for a thread group leader)
  cpu @6 :Data;              # [0] cpu
  cpuChange @23 :Data;       # [1] 0: the CPU of the same thread's previous event in the batch; else cpu + 1
  syscallNr @7 :Data;
  # Arguments: up to six per event, event-major. Encodings 0 and 1: each is
  # zigzag(value - the value of the same argument slot in the previous event
  # of the same syscall number in this batch), so repeated fds, flags and
  # nearby pointers encode in a byte. [2]: zigzag(value - what argCode names),
  # only for arguments whose code is 4 or more.
  args @8 :Data;
  argCode @31 :Data;         # [2] per argument: 0-3, the 1st-4th most recent distinct value of this argument of
                             #     this syscall number in the batch (which becomes the most recent); 4, the most
                             #     recent value plus the difference in args; 5 + i, the i-th most recent address-like
                             #     value (0x10000 <= v < 2^56) of any argument or return value of the batch plus the
                             #     difference (a miss makes the value the most recent of its argument)
  argCount @9 :Data;         # [0] how many of the six args are stored (rest are 0)
  argCountChange @24 :Data;  # [1] 0: as the previous event with the same syscall number (6 for the first); else count + 1
  ret @10 :Data;             # [0] zigzag(return value)
  retChange @27 :Data;       # [1] zigzag(return value - prediction): the previous return value of the same syscall
                             #     number in the batch when that one was not in -4095..INT32_MAX, else 0
  state @11 :Data;           # CallState: 0 returned, 1 never returned, 2 unfinished
  commIndex @12 :Data;       # index into comms
  comms @13 :List(Text);
  containerIndex @14 :Data;  # index into Header.containers; omitted (empty) = all 0
  captureCount @15 :Data;    # [0] captures of each event
  captureShape @25 :Data;    # [1] 0: the captures are of the same arguments, in the same order, as those of the
                             #     previous event with the same syscall number and outcome (failed: ret in
                             #     -4095..-1, or not) in the batch (none for the first); else count + 1, and the
                             #     arguments follow in captureArg
  # Per capture, in event order:
  captureArg @16 :Data;      # argument index 0-5 ([1] only for events whose captureShape is not 0)
  captureSize @17 :Data;     # [0] original size of the data in user memory
  captureSizeChange @28 :Data; # [1] when the capture at this position of the previous event with the same syscall
                             #     number in the batch had the size of its return value (reads, writes):
                             #     zigzag(original size - return value); otherwise 0 for a whole C string
                             #     (kept in full, its only NUL last: the size is where the NUL is), else
                             #     zigzag(original size) + 1
  captureExcess @26 :Data;   # [1] zigzag(original size - bytes kept)
  captureRepeat @30 :Data;   # [2] per capture whose captureSizeChange says "whole C string", and per other capture
                             #     keeping 8 bytes or more: 0, its bytes follow in captureBytes; k > 0, they are
                             #     those of the k-th most recent of the last 8 distinct captures of its kind (whole
                             #     strings; the others) in the batch, which becomes the most recent, and nothing is
                             #     in captureBytes
  captureLen @18 :Data;      # [0] bytes kept (<= the original size unless truncated strings, see format/event.h)
  captureBytes @19 :Data;    # the kept bytes, concatenated: [0-2] in capture order; [3] in groups (see
                             #     captureGroupSizes), each in capture order; [4] empty (see captureParts)
  captureGroupSizes @32 :Data; # [3] bytes of each capture group, in captureBytes order. A group holds the captures of
                             #     one argument of one syscall number; groups come in the order of their first
                             #     capture in the batch (a group whose captures are all repeats is there, empty);
                             #     [4] empty
  perSyscallSizes @33 :Data;  # [3] enterGap, duration and retChange hold a part per syscall number, in the order
                             #     of the number's first event in the batch: each event's values are in its
                             #     number's part, in event order. Per number, three varints: the bytes of its
                             #     part of enterGap, of duration and of retChange
  losses @20 :List(LossMarker);
  timeUnitNs @29 :UInt32;    # [1] baseEnterNs is a multiple of it, and enterGap and duration count in it
                             #     (0: 1 ns); a writer floors every event time to it
  notices @34 :List(TaskNotice); # (minor 3) signals delivered and threads ended, in the order they came
  captureParts @35 :Data;    # [4] the captured bytes come in parts, one per captures frame, which follow the batch's
                             #     frame in part order. Part p goes with a run of consecutive events (part 0's come
                             #     first) and holds a piece of each group (captureGroupSizes' groups, in their order):
                             #     a group's pieces, in part order, make its bytes, and the pieces of parts 0 to p
                             #     hold at least the bytes of the events of those parts (a small group may be whole
                             #     in the part of its first capture). Per part, varints: its number of events (all
                             #     parts' add up to count), the number n of groups first used by its events or by
                             #     earlier ones (never decreasing), then the bytes of each of these n groups' piece
}

# (format 5) Frame type 5: the captured bytes of one part of the events frame
# before it (EventBatch.captureParts, columnEncoding 4). A reader that has the
# events frame but not all its captures frames (a file cut short) shows every
# event, without the captured data of those whose part is missing.
struct CaptureBytes {
  part @0 :UInt32;           # its number among the parts, from 0
  bytes @1 :Data;            # as captureParts says
}

# (minor 3) What happened to a thread between its calls: a signal delivered
# to it, or its end. Placed among the batch's events like a LossMarker. Its
# time is not floored to timeUnitNs.
struct TaskNotice {
  beforeEvent @0 :UInt32;    # position in this batch: shown before event beforeEvent
  atNs @1 :UInt64;           # boot-time ns of the delivery or of the end
  pid @2 :UInt32;            # thread group id
  tid @3 :UInt32;
  cpu @4 :UInt32;
  containerIndex @5 :UInt32;
  comm @6 :Text;             # the thread's name then (at most 15 bytes)
  union {
    signal :group {          # a signal delivered: its handler or its default action follows
      signo @7 :Int32;
      siginfo @8 :Data;      # the siginfo_t its handler gets (layout of the header's arch), at most 128 bytes;
                             # bytes beyond those stored are zero
    }
    exit :group {            # the thread ended
      status @9 :Int32;      # wait(2) status: exit status << 8, or the killing signal (| 0x80: core dumped)
      groupDead @10 :Bool;   # the last thread of its group: the process ended
    }
  }
}

# A marker with lost = 0 and overwritten = 0 says that events are missing
# there in an unknown number: no recorder ran (the daemon was killed and
# restarted while the container ran, or the container ended while no daemon
# ran). Readers show it as "events lost" without a count.
struct LossMarker {
  beforeEvent @0 :UInt32;    # position in this batch: shown before event beforeEvent
  lost @1 :UInt64;           # events lost because the ring buffer was full
  overwritten @2 :UInt64;    # events dropped to keep within the history budget
  cpu @3 :Int32;             # -1: all CPUs
  containerIndex @4 :UInt32;
  atNs @5 :UInt64;           # boot-time ns when the loss was noticed
}

# ------------------------------------------------------------- processes ----

# Frame type 3, any number, anywhere after the header: the process table
# grows as processes appear. Later entries for a pid update earlier ones.
struct ProcessTable {
  processes @0 :List(Process);
}

struct Process {
  pid @0 :UInt32;
  ppid @1 :UInt32;
  comm @2 :Text;
  argv @3 :List(Text);        # exec'd argv where captured
  containerIndex @4 :UInt32;
  startNs @5 :UInt64;
  exitNs @6 :UInt64;
  exitStatus @7 :Int32;       # wait status; meaningful when exitNs != 0
}

# --------------------------------------------------------------- trailer ----

# Frame type 4, last frame. Missing when the recorder died: readers warn.
struct Trailer {
  eventsRecorded @0 :UInt64;
  eventsLost @1 :UInt64;
  eventsOverwritten @2 :UInt64;
  lostPerCpu @3 :List(UInt64);
  firstNs @4 :UInt64;
  lastNs @5 :UInt64;
  endWallNs @6 :Int64;
}
