#include "runtime/direct_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <string>

namespace stargate {
namespace {

namespace fs = std::filesystem;

class DirectFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("direct_file_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
};

// Text whose every byte says where it is, so a block written twice, out of
// order or short shows.
std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

// Sizes on each side of the alignment and of the writer's blocks: whole
// blocks go past the page cache, the tail through it.
TEST_F(DirectFileTest, WritesExactlyTheStreamsBytesWhateverTheirLength) {
  constexpr size_t kB = DirectFileBuf::kBlock;
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, kB - 1, kB, kB + 1, 2 * kB + 12345, 3 * kB}) {
    const fs::path p = dir_ / ("f" + std::to_string(n));
    const std::string want = Pattern(n);
    auto buf = DirectFileBuf::Open(p);
    ASSERT_TRUE(buf.ok()) << buf.status();
    std::ostream out(buf->get());
    // Pieces of every size, and single characters (overflow's path).
    size_t at = 0;
    for (size_t piece = 1; at < n; piece = piece * 3 + 1) {
      const size_t take = std::min(piece % 70001, n - at);
      if (take == 1) {
        out.put(want[at]);
      } else {
        out.write(want.data() + at, static_cast<std::streamsize>(take));
      }
      at += take;
    }
    ASSERT_TRUE(out.good());
    ASSERT_TRUE((*buf)->Close().ok()) << n;
    const std::string got = Read(p);
    ASSERT_EQ(got.size(), n);
    EXPECT_TRUE(got == want) << "the bytes of a " << n << "-byte file differ";
  }
}

// Whether `dir`'s file system takes an aligned O_DIRECT write.
bool TakesDirectWrites(const fs::path& dir) {
  const fs::path probe = dir / "probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
  if (fd < 0) return false;
  void* block = std::aligned_alloc(4096, 4096);
  std::memset(block, 'p', 4096);
  const bool ok = ::write(fd, block, 4096) == 4096;
  std::free(block);
  ::close(fd);
  fs::remove(probe);
  return ok;
}

// Where the file system takes O_DIRECT, whole blocks go past the page
// cache (and the tail's buffered write does not count against it).
TEST_F(DirectFileTest, GoesDirectWhereTheFileSystemTakesIt) {
  const bool takes = TakesDirectWrites(dir_);
  const fs::path p = dir_ / "f";
  auto buf = DirectFileBuf::Open(p);
  ASSERT_TRUE(buf.ok());
  const std::string text = Pattern(2 * DirectFileBuf::kBlock + 100);
  std::ostream(buf->get()).write(text.data(), static_cast<std::streamsize>(text.size()));
  ASSERT_TRUE((*buf)->Close().ok());
  EXPECT_EQ((*buf)->direct(), takes) << dir_;
  EXPECT_TRUE(Read(p) == text);
  if (!takes) GTEST_SKIP() << dir_ << " takes no O_DIRECT write: the blocks went through the page cache";
}

TEST_F(DirectFileTest, TruncatesWhatWasThere) {
  const fs::path p = dir_ / "f";
  std::ofstream(p) << std::string(100000, 'x');
  auto buf = DirectFileBuf::Open(p);
  ASSERT_TRUE(buf.ok());
  std::ostream(buf->get()) << "short";
  ASSERT_TRUE((*buf)->Close().ok());
  EXPECT_EQ(Read(p), "short");
}

TEST_F(DirectFileTest, ClosingOnDestructionKeepsTheBytes) {
  const fs::path p = dir_ / "f";
  {
    auto buf = DirectFileBuf::Open(p);
    ASSERT_TRUE(buf.ok());
    std::ostream(buf->get()) << Pattern(5000);
  }
  EXPECT_EQ(Read(p), Pattern(5000));
}

TEST_F(DirectFileTest, AnUnwritablePathIsAnErrorNamingIt) {
  auto buf = DirectFileBuf::Open(dir_ / "no" / "such" / "dir" / "f");
  ASSERT_FALSE(buf.ok());
  EXPECT_NE(buf.status().message().find("no/such/dir/f"), std::string::npos) << buf.status();
}

// A device that takes no bytes (ENOSPC on every write): the stream goes bad
// and Close() names the file and the reason.
TEST_F(DirectFileTest, AWriteErrorReachesTheStreamAndClose) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto buf = DirectFileBuf::Open("/dev/full");
  ASSERT_TRUE(buf.ok()) << buf.status();
  std::ostream out(buf->get());
  const std::string chunk = Pattern(DirectFileBuf::kBlock);
  for (int i = 0; i < 4 && out.good(); ++i) out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  EXPECT_FALSE(out.good());  // the second hand-over meets the first block's error
  const Status st = (*buf)->Close();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("/dev/full"), std::string::npos) << st;
  EXPECT_FALSE((*buf)->Close().ok());  // once only
}

}  // namespace
}  // namespace stargate
