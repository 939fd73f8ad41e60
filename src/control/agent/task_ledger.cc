#include "control/agent/task_ledger.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "control/agent/task_cgroups.h"

namespace stargate::control {
namespace {

constexpr char kJournal[] = "journal";
// The journal is rewritten when it has this many lines and four times as
// many as the attempts it still holds: a rewrite per ~thousand tasks.
constexpr size_t kRewriteLines = 1024;

// A per-attempt file's name, or that of the temporary file an older agent
// wrote it through.
std::optional<TaskRef> LegacyName(std::string name) {
  if (name.size() > 4 && name.ends_with(".tmp")) name.resize(name.size() - 4);
  return ParseCgroupName(name);
}

std::string BeginLine(const TaskRef& t) { return fmt::format("begin {}\n", CgroupName(t)); }
std::string EndLine(const TaskRef& t, const TaskLedger::End& e) {
  return fmt::format("end {} {} {}\n", CgroupName(t), e.exit_code, e.signal);
}

}  // namespace

TaskLedger::TaskLedger(std::string dir) : dir_(std::move(dir)) {}

TaskLedger::~TaskLedger() {
  if (fd_ >= 0) close(fd_);
}

StatusOr<TaskLedger::State> TaskLedger::Read() const {
  State state;
  std::error_code ec;
  // Per-attempt files first ("started" or "ended <exit> <signal>"): an
  // agent from before the journal; the journal, written since, comes after.
  for (const auto& file : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = file.path().filename().string();
    const std::optional<TaskRef> ref = ParseCgroupName(name);
    if (!ref.has_value())
      continue;  // the journal, a .tmp left by a kill mid-write (what it replaced holds), a stranger
    std::ifstream f(file.path());
    std::string word;
    End end;
    if (f >> word && word == "ended" && f >> end.exit_code >> end.signal) {
      state[*ref] = end;
    } else {
      state[*ref] = std::nullopt;  // started, or cut off while being written: it may have started
    }
  }
  const std::string path = dir_ + "/" + kJournal;
  std::string text;
  if (const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buf[1 << 16];
    ssize_t n = 0;
    while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
    const int err = errno;
    close(fd);
    if (n < 0) return absl::UnavailableError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
  } else if (errno != ENOENT) {
    // Not "nothing recorded": a rewrite from it would lose the attempts.
    return absl::UnavailableError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // cut by a power loss: its name may be cut too
    std::istringstream line(text.substr(at, nl - at));
    at = nl + 1;
    std::string verb, name;
    if (!(line >> verb >> name)) continue;
    const std::optional<TaskRef> ref = ParseCgroupName(name);
    if (!ref.has_value()) continue;
    End end;
    if (verb == "begin") {
      state[*ref] = std::nullopt;
    } else if (verb == "end" && line >> end.exit_code >> end.signal) {
      state[*ref] = end;
    } else if (verb == "drop") {
      state.erase(*ref);
    }
  }
  return state;
}

Status TaskLedger::Rewrite() {
  const std::string path = dir_ + "/" + kJournal;
  const std::string tmp = path + ".tmp";
  std::string text;
  for (const auto& [ref, end] : live_) text += end.has_value() ? EndLine(ref, *end) : BeginLine(ref);
  // Written and then appended to through one descriptor: once renamed it
  // is the journal, with no second open that could fail after the rename
  // (and leave appends going to the file it replaced).
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      std::rename(tmp.c_str(), path.c_str()) != 0) {
    close(fd);
    return absl::InternalError(fmt::format("cannot write {}", path));
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  lines_ = live_.size();
  return absl::OkStatus();
}

Status TaskLedger::Open() {
  if (fd_ >= 0) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  StatusOr<State> read = Read();
  if (!read.ok()) return read.status();
  live_ = *std::move(read);
  if (Status st = Rewrite(); !st.ok()) return st;
  // Folded into the journal: the per-attempt files can go.
  for (const auto& file : std::filesystem::directory_iterator(dir_, ec)) {
    if (LegacyName(file.path().filename().string()).has_value()) std::filesystem::remove(file.path(), ec);
  }
  return absl::OkStatus();
}

Status TaskLedger::Append(const std::string& line) {
  if (Status st = Open(); !st.ok()) return st;
  // One write: a kill of the agent cannot leave half of it.
  if (write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    // A short write (a full disk) may have left part of the line: the next
    // append starts from a rewrite of what is known (Open), so no later
    // line is glued to the fragment and lost with it.
    close(fd_);
    fd_ = -1;
    return absl::InternalError(fmt::format("cannot record the attempt in {}/{}", dir_, kJournal));
  }
  ++lines_;
  return absl::OkStatus();
}

Status TaskLedger::Begin(const TaskRef& task) {
  if (dir_.empty()) return absl::OkStatus();
  if (Status st = Append(BeginLine(task)); !st.ok()) return st;
  live_[task] = std::nullopt;
  return absl::OkStatus();
}

void TaskLedger::Ended(const TaskRef& task, End end) {
  if (dir_.empty()) return;
  if (Append(EndLine(task, end)).ok()) live_[task] = end;
}

void TaskLedger::Drop(const TaskRef& task) {
  if (dir_.empty()) return;
  if (!Append(fmt::format("drop {}\n", CgroupName(task))).ok()) return;
  live_.erase(task);
  // Failing, the journal stays as it is, only longer.
  if (lines_ >= kRewriteLines && lines_ >= 4 * live_.size()) (void)Rewrite();
}

std::vector<TaskLedger::Entry> TaskLedger::Load() const {
  std::vector<Entry> out;
  if (dir_.empty()) return out;
  StatusOr<State> read = Read();
  if (!read.ok()) return out;  // as nothing recorded; Begin, which rewrites, refuses to start then
  for (const auto& [ref, end] : *read) out.push_back({ref, end});
  return out;
}

}  // namespace stargate::control
