#include "format/schema_convert.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace traceloop::format::detail {
namespace {

// Sanity caps on what a header may declare: far above anything real, far
// below what would hurt.
constexpr unsigned kMaxSyscalls = 8192;
constexpr unsigned kMaxParams = 6;
constexpr unsigned kMaxContainers = 1 << 16;
constexpr unsigned kMaxListItems = 1 << 16;

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

template <typename List>
std::vector<std::string> texts(List list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto t : list) out.push_back(text(t));
  return out;
}

template <typename Builder>
void set_texts(Builder builder, const std::vector<std::string>& values) {
  for (unsigned i = 0; i < values.size(); ++i) builder.set(i, values[i]);
}

// Interns catalogue strings; index 0 is the empty string.
struct StringTable {
  std::vector<std::string> values{""};
  std::unordered_map<std::string, uint16_t> ids{{"", 0}};
  uint16_t index(const std::string& s) {
    auto [it, inserted] = ids.try_emplace(s, static_cast<uint16_t>(values.size()));
    if (inserted) values.push_back(s);
    return it->second;
  }
};

// The C++ enums mirror the schema's by value.
static_assert(static_cast<unsigned>(schema::ArgKind::STRUCT_ARRAY_OUT) ==
              static_cast<unsigned>(ArgKind::struct_array_out));
static_assert(static_cast<unsigned>(schema::ArgKind::SOCKADDR_OUT) == static_cast<unsigned>(ArgKind::sockaddr_out));
static_assert(static_cast<unsigned>(schema::ReturnKind::NONE) == static_cast<unsigned>(ReturnKind::none));
static_assert(static_cast<unsigned>(schema::ReturnKind::UNSIGNED) == static_cast<unsigned>(ReturnKind::unsigned_int));

void set_key_values(capnp::List<schema::KeyValue>::Builder list,
                    const std::vector<std::pair<std::string, std::string>>& pairs) {
  for (unsigned k = 0; k < pairs.size(); ++k) {
    list[k].setKey(pairs[k].first);
    list[k].setValue(pairs[k].second);
  }
}

// The shape fields Param and ParamVariant share, checked.
template <typename StringAt>
Result<void> read_shape(schema::ArgKind kind_in, int8_t len_arg, uint16_t flag_set, uint16_t struct_type,
                        uint32_t struct_size, ParamSpec& out, const StringAt& string_at) {
  const auto kind = static_cast<unsigned>(kind_in);
  if (kind > static_cast<unsigned>(ArgKind::struct_array_out)) return Error{"has an unknown argument kind"};
  out.kind = static_cast<ArgKind>(kind);
  if (len_arg < kNoLenArg || len_arg > 5) return Error{"has a length argument out of range"};
  out.len_arg = len_arg;
  out.flag_set = string_at(flag_set);
  out.struct_type = string_at(struct_type);
  out.struct_size = struct_size;
  return {};
}

}  // namespace

void to_schema(const TraceMetadata& m, schema::Header::Builder out) {
  out.setRecorderVersion(m.recorder_version);
  out.setHostName(m.host_name);
  out.setKernelRelease(m.kernel_release);
  out.setArch(std::string(arch_name(m.arch)));
  out.setBootToWallNs(m.boot_to_wall_ns);
  out.setCreatedWallNs(m.created_wall_ns);
  auto cap = out.initCapture();
  cap.setMode(m.capture.mode);
  set_texts(cap.initSyscallFilters(static_cast<unsigned>(m.capture.syscall_filters.size())), m.capture.syscall_filters);
  cap.setMaxDataBytes(m.capture.max_data_bytes);
  cap.setCaptureData(m.capture.capture_data);
  cap.setRingBytes(m.capture.ring_bytes);
  cap.setBudgetBytes(m.capture.budget_bytes);
  cap.setTimestampResolutionNs(m.capture.timestamp_resolution_ns);
  auto containers = out.initContainers(static_cast<unsigned>(m.containers.size()));
  for (unsigned i = 0; i < m.containers.size(); ++i) {
    const auto& c = m.containers[i];
    auto b = containers[i];
    b.setId(c.id);
    b.setName(c.name);
    b.setRuntime(c.runtime);
    b.setPodName(c.pod_name);
    b.setPodNamespace(c.pod_namespace);
    b.setContainerName(c.container_name);
    b.setCgroupPath(c.cgroup_path);
    b.setCgroupId(c.cgroup_id);
    b.setMountNsId(c.mount_ns_id);
    set_key_values(b.initAnnotations(static_cast<unsigned>(c.annotations.size())), c.annotations);
    b.setStartedWallNs(c.started_wall_ns);
    b.setExitedWallNs(c.exited_wall_ns);
    b.setImage(c.image);
    set_key_values(b.initLabels(static_cast<unsigned>(c.labels.size())), c.labels);
    b.setRuntimeNamespace(c.runtime_namespace);
    b.setInitPid(c.init_pid);
  }
  auto cat = out.initCatalogue();
  cat.setArch(std::string(arch_name(m.catalogue.arch())));
  StringTable strings;
  const auto syscalls = m.catalogue.syscalls();
  auto list = cat.initSyscalls(static_cast<unsigned>(syscalls.size()));
  for (unsigned i = 0; i < syscalls.size(); ++i) {
    const auto& s = syscalls[i];
    auto b = list[i];
    b.setNr(s.nr);
    b.setName(strings.index(s.name));
    b.setReturns(static_cast<schema::ReturnKind>(s.returns));
    b.setNeverReturns(s.never_returns);
    auto params = b.initParams(static_cast<unsigned>(s.params.size()));
    for (unsigned k = 0; k < s.params.size(); ++k) {
      const auto& p = s.params[k];
      auto pb = params[k];
      pb.setName(strings.index(p.name));
      pb.setCType(strings.index(p.c_type));
      pb.setKind(static_cast<schema::ArgKind>(p.kind));
      pb.setLenArg(p.len_arg);
      pb.setFlagSet(strings.index(p.flag_set));
      pb.setStructType(strings.index(p.struct_type));
      pb.setStructSize(p.struct_size);
      if (p.variants.empty()) continue;
      auto variants = pb.initVariants(static_cast<unsigned>(p.variants.size()));
      for (unsigned v = 0; v < p.variants.size(); ++v) {
        const ParamVariant& pv = p.variants[v];
        auto vb = variants[v];
        vb.setSelector(pv.selector);
        vb.setMask(pv.mask);
        auto values = vb.initValues(static_cast<unsigned>(pv.values.size()));
        for (unsigned x = 0; x < pv.values.size(); ++x) values.set(x, pv.values[x]);
        vb.setKind(static_cast<schema::ArgKind>(pv.shape.kind));
        vb.setLenArg(pv.shape.len_arg);
        vb.setFlagSet(strings.index(pv.shape.flag_set));
        vb.setStructType(strings.index(pv.shape.struct_type));
        vb.setStructSize(pv.shape.struct_size);
      }
    }
  }
  set_texts(cat.initStrings(static_cast<unsigned>(strings.values.size())), strings.values);
  set_texts(out.initCommand(static_cast<unsigned>(m.command.size())), m.command);
  if (!m.fd_snapshots.empty()) {
    auto snapshots = out.initFdSnapshots(static_cast<unsigned>(m.fd_snapshots.size()));
    for (unsigned i = 0; i < m.fd_snapshots.size(); ++i) {
      const auto& in = m.fd_snapshots[i];
      auto sb = snapshots[i];
      sb.setPid(in.pid);
      sb.setAtNs(in.at_ns);
      sb.setCwd(in.cwd);
      sb.setComplete(in.complete);
      auto fds = sb.initFds(static_cast<unsigned>(in.fds.size()));
      for (unsigned k = 0; k < in.fds.size(); ++k) {
        fds[k].setFd(in.fds[k].fd);
        fds[k].setTarget(in.fds[k].target);
        fds[k].setDetail(in.fds[k].detail);
        fds[k].setCloexec(in.fds[k].cloexec);
      }
    }
  }
}

Result<TraceMetadata> from_schema(schema::Header::Reader in) {
  TraceMetadata m;
  m.recorder_version = text(in.getRecorderVersion());
  m.host_name = text(in.getHostName());
  m.kernel_release = text(in.getKernelRelease());
  const auto arch = arch_from_name(text(in.getArch()));
  if (!arch) return Error{"unknown architecture '" + text(in.getArch()) + "'"};
  m.arch = *arch;
  m.boot_to_wall_ns = in.getBootToWallNs();
  m.created_wall_ns = in.getCreatedWallNs();
  auto cap = in.getCapture();
  m.capture.mode = text(cap.getMode());
  if (cap.getSyscallFilters().size() > kMaxSyscalls) return Error{"header declares too many syscall filters"};
  m.capture.syscall_filters = texts(cap.getSyscallFilters());
  m.capture.max_data_bytes = cap.getMaxDataBytes();
  m.capture.capture_data = cap.getCaptureData();
  m.capture.ring_bytes = cap.getRingBytes();
  m.capture.budget_bytes = cap.getBudgetBytes();
  m.capture.timestamp_resolution_ns = std::max<uint32_t>(cap.getTimestampResolutionNs(), 1);
  if (in.getContainers().size() > kMaxContainers) return Error{"header declares too many containers"};
  for (auto c : in.getContainers()) {
    ContainerInfo info;
    info.id = text(c.getId());
    info.name = text(c.getName());
    info.runtime = text(c.getRuntime());
    info.pod_name = text(c.getPodName());
    info.pod_namespace = text(c.getPodNamespace());
    info.container_name = text(c.getContainerName());
    info.cgroup_path = text(c.getCgroupPath());
    info.cgroup_id = c.getCgroupId();
    info.mount_ns_id = c.getMountNsId();
    if (c.getAnnotations().size() > kMaxListItems) return Error{"header declares too many annotations"};
    for (auto kv : c.getAnnotations()) info.annotations.emplace_back(text(kv.getKey()), text(kv.getValue()));
    info.started_wall_ns = c.getStartedWallNs();
    info.exited_wall_ns = c.getExitedWallNs();
    info.image = text(c.getImage());
    if (c.getLabels().size() > kMaxListItems) return Error{"header declares too many labels"};
    for (auto kv : c.getLabels()) info.labels.emplace_back(text(kv.getKey()), text(kv.getValue()));
    info.runtime_namespace = text(c.getRuntimeNamespace());
    info.init_pid = c.getInitPid();
    m.containers.push_back(std::move(info));
  }
  auto cat = in.getCatalogue();
  const auto cat_arch = arch_from_name(text(cat.getArch()));
  if (!cat_arch) return Error{"unknown catalogue architecture '" + text(cat.getArch()) + "'"};
  if (cat.getSyscalls().size() > kMaxSyscalls) return Error{"header declares too many syscalls"};
  if (cat.getStrings().size() > kMaxListItems) return Error{"header declares too many catalogue strings"};
  const std::vector<std::string> strings = texts(cat.getStrings());
  bool bad_index = false;
  const auto string_at = [&](uint16_t index) -> std::string {
    if (index == 0) return {};
    if (index >= strings.size()) {
      bad_index = true;
      return {};
    }
    return strings[index];
  };
  std::vector<SyscallSpec> syscalls;
  syscalls.reserve(cat.getSyscalls().size());
  for (auto s : cat.getSyscalls()) {
    SyscallSpec spec;
    spec.nr = s.getNr();
    spec.name = string_at(s.getName());
    const auto returns = static_cast<unsigned>(s.getReturns());
    if (returns > static_cast<unsigned>(ReturnKind::none)) return Error{"catalogue has an unknown return kind"};
    spec.returns = static_cast<ReturnKind>(returns);
    spec.never_returns = s.getNeverReturns();
    if (s.getParams().size() > kMaxParams) return Error{"catalogue entry " + spec.name + " has more than 6 params"};
    const unsigned param_count = s.getParams().size();
    for (auto p : s.getParams()) {
      ParamSpec param;
      param.name = string_at(p.getName());
      param.c_type = string_at(p.getCType());
      auto shape = read_shape(p.getKind(), p.getLenArg(), p.getFlagSet(), p.getStructType(), p.getStructSize(),
                              param, string_at);
      if (!shape.ok()) return Error{"catalogue entry " + spec.name + " " + shape.error().message};
      if (p.getVariants().size() > kMaxParamVariants)
        return Error{"catalogue entry " + spec.name + " has too many variants of a parameter"};
      const unsigned self = static_cast<unsigned>(spec.params.size());
      for (auto v : p.getVariants()) {
        ParamVariant variant;
        variant.selector = v.getSelector();
        if (variant.selector >= param_count || variant.selector == self)
          return Error{"catalogue entry " + spec.name + " has a variant chosen by an argument it does not have"};
        variant.mask = v.getMask();
        if (v.getValues().size() > kMaxVariantValues)
          return Error{"catalogue entry " + spec.name + " has a variant with too many values"};
        for (const uint64_t x : v.getValues()) variant.values.push_back(x);
        variant.shape.name = param.name;
        variant.shape.c_type = param.c_type;
        auto vshape = read_shape(v.getKind(), v.getLenArg(), v.getFlagSet(), v.getStructType(), v.getStructSize(),
                                 variant.shape, string_at);
        if (!vshape.ok()) return Error{"catalogue entry " + spec.name + " variant " + vshape.error().message};
        param.variants.push_back(std::move(variant));
      }
      spec.params.push_back(std::move(param));
    }
    syscalls.push_back(std::move(spec));
  }
  if (bad_index) return Error{"catalogue refers to a string it does not have"};
  m.catalogue = Catalogue(*cat_arch, std::move(syscalls));
  if (in.getCommand().size() > kMaxListItems) return Error{"header declares too many command arguments"};
  m.command = texts(in.getCommand());
  if (in.getFdSnapshots().size() > kMaxSnapshotProcesses) return Error{"header declares too many fd snapshots"};
  size_t fd_count = 0;
  for (auto sr : in.getFdSnapshots()) {
    if (sr.getFds().size() > kMaxSnapshotFdsPerProcess || (fd_count += sr.getFds().size()) > kMaxSnapshotFdsTotal)
      return Error{"header declares too many snapshot fds"};
    FdSnapshot snapshot;
    snapshot.pid = sr.getPid();
    snapshot.at_ns = sr.getAtNs();
    snapshot.cwd = text(sr.getCwd());
    snapshot.complete = sr.getComplete();
    for (auto f : sr.getFds())
      snapshot.fds.push_back(OpenFd{f.getFd(), text(f.getTarget()), text(f.getDetail()), f.getCloexec()});
    m.fd_snapshots.push_back(std::move(snapshot));
  }
  // What the traced processes named their files is not trusted either.
  sanitise_fd_snapshots(m.fd_snapshots);
  return m;
}

void to_schema(const std::vector<ProcessInfo>& processes, schema::ProcessTable::Builder out) {
  auto list = out.initProcesses(static_cast<unsigned>(processes.size()));
  for (unsigned i = 0; i < processes.size(); ++i) {
    const auto& p = processes[i];
    auto b = list[i];
    b.setPid(p.pid);
    b.setPpid(p.ppid);
    b.setComm(p.comm);
    set_texts(b.initArgv(static_cast<unsigned>(p.argv.size())), p.argv);
    b.setContainerIndex(p.container);
    b.setStartNs(p.start_ns);
    b.setExitNs(p.exit_ns);
    b.setExitStatus(p.exit_status);
  }
}

Result<std::vector<ProcessInfo>> from_schema(schema::ProcessTable::Reader in) {
  std::vector<ProcessInfo> out;
  if (in.getProcesses().size() > (1u << 22)) return Error{"process table too large"};
  out.reserve(in.getProcesses().size());
  for (auto p : in.getProcesses()) {
    ProcessInfo info;
    info.pid = p.getPid();
    info.ppid = p.getPpid();
    info.comm = text(p.getComm());
    if (p.getArgv().size() > kMaxListItems) return Error{"process argv too long"};
    info.argv = texts(p.getArgv());
    info.container = p.getContainerIndex();
    info.start_ns = p.getStartNs();
    info.exit_ns = p.getExitNs();
    info.exit_status = p.getExitStatus();
    out.push_back(std::move(info));
  }
  return out;
}

void to_schema(const Counters& c, schema::Trailer::Builder out) {
  out.setEventsRecorded(c.events_recorded);
  out.setEventsLost(c.events_lost);
  out.setEventsOverwritten(c.events_overwritten);
  auto per_cpu = out.initLostPerCpu(static_cast<unsigned>(c.lost_per_cpu.size()));
  for (unsigned i = 0; i < c.lost_per_cpu.size(); ++i) per_cpu.set(i, c.lost_per_cpu[i]);
  out.setFirstNs(c.first_ns);
  out.setLastNs(c.last_ns);
  out.setEndWallNs(c.end_wall_ns);
}

Counters from_schema(schema::Trailer::Reader in) {
  Counters c;
  c.events_recorded = in.getEventsRecorded();
  c.events_lost = in.getEventsLost();
  c.events_overwritten = in.getEventsOverwritten();
  const auto per_cpu = in.getLostPerCpu();
  const unsigned n = std::min(per_cpu.size(), 65536u);
  for (unsigned i = 0; i < n; ++i) c.lost_per_cpu.push_back(per_cpu[i]);
  c.first_ns = in.getFirstNs();
  c.last_ns = in.getLastNs();
  c.end_wall_ns = in.getEndWallNs();
  return c;
}

}  // namespace traceloop::format::detail
