#include "zero_filled_wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace tessera::eventstore::detail {
namespace {

// Zeros are written this far ahead of the log's end: one larger sync every
// few thousand group commits instead of a journalled size change at each.
constexpr std::uint64_t kZeroAhead = 4U << 20U;

class ZeroAheadFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  ZeroAheadFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(file)), path_(std::move(path)) {}
  ~ZeroAheadFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  ZeroAheadFile(const ZeroAheadFile&) = delete;
  ZeroAheadFile& operator=(const ZeroAheadFile&) = delete;

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (auto zeroed = zero_through(appended_ + data.size()); !zeroed.ok()) return zeroed;
    appended_ += data.size();
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& verification, rocksdb::IODebugContext* dbg) override {
    if (auto zeroed = zero_through(appended_ + data.size()); !zeroed.ok()) return zeroed;
    appended_ += data.size();
    return target()->Append(data, options, verification, dbg);
  }

 private:
  // Zeros in [zeroed_, past `end` by kZeroAhead), through a descriptor of
  // our own: RocksDB's writes at its own offset, which this leaves alone.
  rocksdb::IOStatus zero_through(std::uint64_t end) {
    if (end <= zeroed_) return rocksdb::IOStatus::OK();
    if (fd_ < 0) {
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0) return rocksdb::IOStatus::IOError("zero-filling " + path_, std::strerror(errno));
    }
    static const std::array<char, 1U << 20U> kZeros{};
    const std::uint64_t target_end = end + kZeroAhead;
    while (zeroed_ < target_end) {
      const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(kZeros.size(), target_end - zeroed_));
      const auto wrote = ::pwrite(fd_, kZeros.data(), chunk, static_cast<off_t>(zeroed_));
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote <= 0) return rocksdb::IOStatus::IOError("zero-filling " + path_, std::strerror(errno));
      zeroed_ += static_cast<std::uint64_t>(wrote);
    }
    return rocksdb::IOStatus::OK();
  }

  std::string path_;
  int fd_ = -1;
  std::uint64_t appended_ = 0;  // what RocksDB appended: where its next write lands
  std::uint64_t zeroed_ = 0;
};

class ZeroFilledWal final : public rocksdb::FileSystemWrapper {
 public:
  explicit ZeroFilledWal(std::shared_ptr<rocksdb::FileSystem> base) : rocksdb::FileSystemWrapper(std::move(base)) {}

  static const char* kClassName() { return "TesseraZeroFilledWal"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    auto status = target()->NewWritableFile(path, options, result, dbg);
    if (status.ok() && is_wal(path)) *result = std::make_unique<ZeroAheadFile>(std::move(*result), path);
    return status;
  }

 private:
  // RocksDB names its write-ahead logs NNNNNN.log (its info log is LOG).
  static bool is_wal(const std::string& path) { return path.ends_with(".log"); }
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> zero_filled_wal(std::shared_ptr<rocksdb::FileSystem> base) {
  return std::make_shared<ZeroFilledWal>(std::move(base));
}

}  // namespace tessera::eventstore::detail
