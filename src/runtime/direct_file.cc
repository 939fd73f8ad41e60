#include "runtime/direct_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "fmt/format.h"

namespace stargate {
namespace {

// O_DIRECT's alignment of addresses, offsets and lengths: 4 KiB covers
// every logical block size Linux devices report (512 B or 4 KiB).
constexpr size_t kAlign = 4096;
static_assert(DirectFileBuf::kBlock % kAlign == 0);

int OpenFlags(bool direct) { return O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0); }

// Clears O_DIRECT on `fd`: 0 or errno.
int StopDirect(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0) return errno;
  return 0;
}

}  // namespace

void DirectFileBuf::FreeBlock::operator()(char* p) const { std::free(p); }

StatusOr<std::unique_ptr<DirectFileBuf>> DirectFileBuf::Open(const std::filesystem::path& path) {
  bool direct = true;
  int fd = ::open(path.c_str(), OpenFlags(true), 0666);
  if (fd < 0 && errno == EINVAL) {  // the file system has no O_DIRECT
    direct = false;
    fd = ::open(path.c_str(), OpenFlags(false), 0666);
  }
  if (fd < 0) {
    const int e = errno;
    std::string message = fmt::format("cannot write {}: {}", path.string(), std::strerror(e));
    return e == EACCES || e == EPERM || e == EROFS ? absl::PermissionDeniedError(message)
                                                   : absl::UnavailableError(message);
  }
  try {
    return std::unique_ptr<DirectFileBuf>(new DirectFileBuf(path, fd, direct));
  } catch (const std::exception& e) {  // no memory for the blocks, or no thread
    ::close(fd);
    return absl::ResourceExhaustedError(fmt::format("cannot write {}: {}", path.string(), e.what()));
  }
}

DirectFileBuf::DirectFileBuf(std::filesystem::path path, int fd, bool direct)
    : path_(std::move(path)), fd_(fd), direct_(direct), refused_(!direct) {
  for (auto& b : blocks_) {
    b.reset(static_cast<char*>(std::aligned_alloc(kAlign, kBlock)));
    if (!b) throw std::bad_alloc();
  }
  setp(blocks_[0].get(), blocks_[0].get() + kBlock);
  writer_ = std::thread([this] { WriterLoop(); });
}

DirectFileBuf::~DirectFileBuf() {
  if (!closed_) (void)Close();
}

void DirectFileBuf::WaitIdle(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [this] { return pending_ == nullptr; });
}

bool DirectFileBuf::Hand() {
  const size_t size = static_cast<size_t>(pptr() - pbase());
  {
    std::unique_lock<std::mutex> lock(mu_);
    WaitIdle(lock);
    if (error_ != 0) return false;
    if (size > 0) {
      pending_ = pbase();
      pending_size_ = size;
    }
  }
  cv_.notify_all();
  if (size > 0) filling_ ^= 1;
  char* next = blocks_[filling_].get();
  setp(next, next + kBlock);
  return true;
}

DirectFileBuf::int_type DirectFileBuf::overflow(int_type c) {
  if (closed_ || !Hand()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

std::streamsize DirectFileBuf::xsputn(const char* s, std::streamsize n) {
  std::streamsize done = 0;
  while (done < n) {
    if (pptr() == epptr() && (closed_ || !Hand())) break;
    const auto room = static_cast<std::streamsize>(epptr() - pptr());
    const std::streamsize take = std::min(room, n - done);
    std::memcpy(pptr(), s + done, static_cast<size_t>(take));
    pbump(static_cast<int>(take));  // take <= kBlock, well inside int
    done += take;
  }
  return done;
}

int DirectFileBuf::WriteAll(const char* data, size_t size) {
  // A tail that is not a whole number of aligned blocks goes through the
  // page cache: its aligned prefix direct, the rest after O_DIRECT is off.
  size_t direct_part = direct_ ? size - size % kAlign : 0;
  while (size > 0) {
    if (direct_part == 0 && direct_) {
      if (const int e = StopDirect(fd_); e != 0) return e;
      direct_ = false;
    }
    const size_t want = direct_ ? direct_part : size;
    const ssize_t n = ::write(fd_, data, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The file system took O_DIRECT at open but refuses the write (some
      // FUSE ones): the rest goes through the page cache.
      if (errno == EINVAL && direct_) {
        refused_ = true;
        direct_part = 0;
        continue;
      }
      return errno;
    }
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<size_t>(n);
    if (direct_) {
      direct_part -= static_cast<size_t>(n);
      // A short direct write may leave an unaligned remainder: through the
      // page cache from there.
      if (direct_part % kAlign != 0) direct_part = 0;
    }
  }
  return 0;
}

void DirectFileBuf::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return pending_ != nullptr || stop_; });
    if (pending_ == nullptr) return;  // stopped with nothing left
    const char* data = pending_;
    const size_t size = pending_size_;
    lock.unlock();
    const int e = WriteAll(data, size);  // (Hand gives no block once a write has failed)
    lock.lock();
    if (e != 0) error_ = e;
    pending_ = nullptr;
    cv_.notify_all();
  }
}

Status DirectFileBuf::Close() {
  if (closed_) return absl::FailedPreconditionError(fmt::format("{} is already closed", path_.string()));
  (void)Hand();  // the tail
  closed_ = true;
  setp(nullptr, nullptr);
  int error = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    WaitIdle(lock);
    stop_ = true;
    error = error_;
  }
  cv_.notify_all();
  writer_.join();
  if (::close(fd_) != 0 && error == 0) error = errno;
  if (error != 0)
    return absl::DataLossError(fmt::format("short write to {}: {}", path_.string(), std::strerror(error)));
  return Status();
}

}  // namespace stargate
