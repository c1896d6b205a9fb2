// A unique temporary directory under std::filesystem::temp_directory_path(),
// created on construction and removed (with everything in it) on destruction,
// unless TESSERA_KEEP_TEST_DIRS is set: then it stays, to inspect a failure.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace tessera::test_support {

class TempDir {
 public:
  explicit TempDir(std::string_view tag = "tessera-test") {
    static std::atomic<std::uint64_t> counter{0};
    std::random_device entropy;
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
      const std::string name = std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
                               std::to_string(counter.fetch_add(1)) + "-" + std::to_string(entropy());
      std::error_code ec;
      // create_directory is false when the directory already exists: try another name.
      if (std::filesystem::create_directory(base / name, ec) && !ec) {
        path_ = base / name;
        return;
      }
    }
    throw std::runtime_error("could not create a unique temporary directory under " + base.string());
  }

  ~TempDir() {
    if (std::getenv("TESSERA_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

}  // namespace tessera::test_support
