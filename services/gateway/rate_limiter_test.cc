#include "services/gateway/rate_limiter.h"

#include "common/testing/testing.h"
#include "gtest/gtest.h"

namespace htx::gateway {
namespace {

using ::htx::testing::StatusIsWithReason;

class FakeClock {
 public:
  absl::Time Now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST(RateLimiterTest, BurstThenRefusesWithRetryAfter) {
  FakeClock clock;
  RateLimiter limiter({/*rate=*/10, /*burst=*/3}, [&] { return clock.Now(); });
  for (int i = 0; i < 3; ++i) HTX_ASSERT_OK(limiter.Take("key:a"));
  absl::Status refused = limiter.Take("key:a");
  EXPECT_THAT(refused, StatusIsWithReason(absl::StatusCode::kResourceExhausted, "RATE_LIMITED"));
  // One token comes back every 100 ms at 10 calls/s.
  EXPECT_EQ(ErrorMetadata(refused, "retry_after_ms"), "100");
}

TEST(RateLimiterTest, RefillsAtTheRateUpToTheBurst) {
  FakeClock clock;
  RateLimiter limiter({/*rate=*/10, /*burst=*/3}, [&] { return clock.Now(); });
  for (int i = 0; i < 3; ++i) HTX_ASSERT_OK(limiter.Take("key:a"));
  clock.Advance(absl::Milliseconds(250));  // 2.5 tokens
  HTX_ASSERT_OK(limiter.Take("key:a"));
  HTX_ASSERT_OK(limiter.Take("key:a"));
  EXPECT_FALSE(limiter.Take("key:a").ok());
  clock.Advance(absl::Hours(1));  // never more than the burst
  for (int i = 0; i < 3; ++i) HTX_ASSERT_OK(limiter.Take("key:a"));
  EXPECT_FALSE(limiter.Take("key:a").ok());
}

TEST(RateLimiterTest, SubjectsHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter({/*rate=*/1, /*burst=*/1}, [&] { return clock.Now(); });
  HTX_ASSERT_OK(limiter.Take("key:a"));
  EXPECT_FALSE(limiter.Take("key:a").ok());
  HTX_ASSERT_OK(limiter.Take("key:b"));
}

TEST(RateLimiterTest, ZeroRateMeansUnlimited) {
  RateLimiter limiter({/*rate=*/0, /*burst=*/0});
  for (int i = 0; i < 1000; ++i) HTX_ASSERT_OK(limiter.Take("key:a"));
}

}  // namespace
}  // namespace htx::gateway
