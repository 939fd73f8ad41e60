// File: direct_file.h
// A large output file (the twin's sites.csv is 4.3 GB for a year of 10,000
// sites) written past the page cache. Through the page cache each write
// first copies into freshly allocated cache pages; on this project's VMs
// that copy cost 2.7 s per GB of system time (`dd bs=1M` of 4 GB: 11.2 s),
// against 0.9 s per GB written with O_DIRECT. The stream's bytes gather in
// one of two aligned blocks; a full block goes to a writer thread, so the
// device writes one while the caller fills the other.
//
// Where the file system refuses O_DIRECT (tmpfs before Linux 6.6, some
// FUSE and network file systems), the same blocks go through the page
// cache: the file's bytes are the same either way. The tail that does not
// fill an aligned block is written through the page cache at Close().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <streambuf>
#include <thread>

#include "core/status.h"

namespace stargate {

class DirectFileBuf final : public std::streambuf {
 public:
  // Block size: a multiple of every logical block size O_DIRECT may ask
  // alignment to (512 B or 4 KiB); large, so the writer makes few calls.
  static constexpr size_t kBlock = size_t{4} << 20;

  // Creates or truncates `path` (mode 0666 less the umask, as std::ofstream).
  static StatusOr<std::unique_ptr<DirectFileBuf>> Open(const std::filesystem::path& path);
  ~DirectFileBuf() override;  // closes, dropping any error, where Close() was not called
  DirectFileBuf(const DirectFileBuf&) = delete;
  DirectFileBuf& operator=(const DirectFileBuf&) = delete;

  // Writes what is buffered and closes the file: the first write error
  // (naming the file), else OK. Once only.
  Status Close();
  // Whether whole blocks go past the page cache: false where the file
  // system refused O_DIRECT, at open or at a write. (The tail at Close()
  // goes through the page cache either way.)
  bool direct() const { return !refused_.load(std::memory_order_relaxed); }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  struct FreeBlock {
    void operator()(char* p) const;
  };
  DirectFileBuf(std::filesystem::path path, int fd, bool direct);
  // Hands the full block to the writer (once it is done with the other)
  // and fills the other; false once a write has failed.
  bool Hand();
  void WriterLoop();
  // Writes [data, data + size) at the file's end, all of it; 0 or errno.
  int WriteAll(const char* data, size_t size);
  void WaitIdle(std::unique_lock<std::mutex>& lock);

  const std::filesystem::path path_;
  int fd_;
  bool direct_;  // O_DIRECT is on (the writer's, once it runs)
  std::atomic<bool> refused_;
  std::unique_ptr<char, FreeBlock> blocks_[2];
  int filling_ = 0;
  bool closed_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  const char* pending_ = nullptr;  // handed to the writer, not yet written
  size_t pending_size_ = 0;
  bool stop_ = false;
  int error_ = 0;  // the first write's errno
  std::thread writer_;
};

}  // namespace stargate
