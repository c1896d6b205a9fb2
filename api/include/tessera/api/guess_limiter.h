// Slows down code guessing: failed redemptions that look like guessing (an
// unknown or malformed code) drain a token bucket per client address; while
// an address's bucket is empty its redemptions and claims are refused with
// 429 before any lookup. Conflicts such as code-exhausted cost nothing: they
// name real codes.
//
// Threading: every method is safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tessera::api {

struct GuessLimits {
  double burst = 10;                  // failures an address may make at once
  double refill_per_second = 1;       // and then at most this many per second
  std::size_t max_tracked = 100'000;  // addresses remembered; full buckets are forgotten first
};

class GuessLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit GuessLimiter(GuessLimits limits = {}) : limits_(limits) {}

  // Whether `address` may try a code now; when not, how long until it may.
  bool allowed(const std::string& address, Clock::time_point now, std::chrono::seconds& retry_after);

  // Records a guess-like failure from `address`.
  void failed(const std::string& address, Clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  Bucket& refilled(const std::string& address, Clock::time_point now);

  GuessLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace tessera::api
