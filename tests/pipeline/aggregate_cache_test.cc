// The sequencer's aggregate cache on its own, over a real RocksDB log.
#include "aggregate_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "tessera/domain/ids.h"

namespace tessera::pipeline::detail {
namespace {

namespace es = eventstore;

class AggregateCacheTest : public ::testing::Test {
 protected:
  test_support::TempDir dir_{"tessera-cache"};
  std::unique_ptr<es::Log> log_ = es::Log::open(dir_.path() / "log").value();
};

auto stream_name(int i) { return domain::StreamId{"contract-acme-" + std::to_string(i)}; }

// A batch may load far more than the capacity: the set grows, moving every
// entry by the hash it keeps, and each must still be found by its name (the
// same entry, not a second one made).
TEST_F(AggregateCacheTest, GrownPastItsCapacityWithinABatchItFindsEachEntryItHolds) {
  AggregateCache cache(*log_, CacheOptions{.capacity = 4, .snapshot_every = 256});
  constexpr int kStreams = 5000;
  std::vector<Loaded*> first;
  for (int i = 0; i < kStreams; ++i) first.push_back(cache.load(stream_name(i)).value());
  ASSERT_EQ(cache.size(), static_cast<std::size_t>(kStreams));
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_EQ(cache.load(stream_name(i)).value(), first[static_cast<std::size_t>(i)]) << "stream " << i;
  }
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(kStreams));
  cache.settle({});
  EXPECT_EQ(cache.size(), 4U);
}

// A store of new streams makes an entry and evicts one each time, so the
// set erases thousands of entries (by the hashes they keep). The bound must
// hold after every settle, and every stream, kept or evicted, must be found
// again as it is.
TEST_F(AggregateCacheTest, ChurnedByThousandsOfNewStreamsItStaysBoundedAndFindsEach) {
  constexpr std::size_t kCapacity = 4;
  AggregateCache cache(*log_, CacheOptions{.capacity = kCapacity, .snapshot_every = 256});
  constexpr int kStreams = 5000;
  for (int i = 0; i < kStreams; ++i) {
    auto loaded = cache.load(stream_name(i));
    ASSERT_TRUE(loaded);
    ASSERT_EQ(*loaded.value()->stream, stream_name(i).str());
    cache.settle({});
    ASSERT_LE(cache.size(), kCapacity) << "after stream " << i;
  }
  for (int i = kStreams - 1; i >= 0; --i) {
    auto loaded = cache.load(stream_name(i));
    ASSERT_TRUE(loaded);
    ASSERT_EQ(*loaded.value()->stream, stream_name(i).str());
    EXPECT_EQ(loaded.value()->version.value, 0U);
    cache.settle({});
    ASSERT_LE(cache.size(), kCapacity);
  }
}

}  // namespace
}  // namespace tessera::pipeline::detail
