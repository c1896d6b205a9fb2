#include "tessera/api/guess_limiter.h"

#include <algorithm>
#include <cmath>

namespace tessera::api {

GuessLimiter::Bucket& GuessLimiter::refilled(const std::string& address, Clock::time_point now) {
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limits_.max_tracked) {
      // Forget the addresses whose buckets have refilled: they owe nothing.
      std::erase_if(buckets_, [&](const auto& entry) {
        const double seconds = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + seconds * limits_.refill_per_second >= limits_.burst;
      });
    }
    it = buckets_.emplace(address, Bucket{limits_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  const double seconds = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(limits_.burst, bucket.tokens + std::max(0.0, seconds) * limits_.refill_per_second);
  bucket.updated = now;
  return bucket;
}

bool GuessLimiter::allowed(const std::string& address, Clock::time_point now, std::chrono::seconds& retry_after) {
  std::lock_guard lock(mutex_);
  const Bucket& bucket = refilled(address, now);
  if (bucket.tokens >= 1) return true;
  retry_after =
      std::chrono::seconds(static_cast<std::int64_t>(std::ceil((1 - bucket.tokens) / limits_.refill_per_second)));
  return false;
}

void GuessLimiter::failed(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Bucket& bucket = refilled(address, now);
  bucket.tokens = std::max(0.0, bucket.tokens - 1);
}

}  // namespace tessera::api
