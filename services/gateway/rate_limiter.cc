#include "services/gateway/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace htx::gateway {

RateLimiter::RateLimiter(RateLimit limit, std::function<absl::Time()> clock)
    : limit_(limit), clock_(std::move(clock)) {}

absl::Status RateLimiter::Take(absl::string_view subject) {
  if (limit_.rate <= 0) return absl::OkStatus();
  const absl::Time now = clock_();
  Shard& shard = shards_[absl::HashOf(subject) % kShards];
  double missing;
  {
    absl::MutexLock lock(&shard.mu);
    auto [it, inserted] = shard.buckets.try_emplace(subject, Bucket{limit_.burst, now});
    Bucket& bucket = it->second;
    if (!inserted) {
      const double elapsed = absl::ToDoubleSeconds(now - bucket.refilled);
      bucket.tokens = std::min(limit_.burst, bucket.tokens + std::max(0.0, elapsed) * limit_.rate);
      bucket.refilled = std::max(bucket.refilled, now);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return absl::OkStatus();
    }
    missing = 1 - bucket.tokens;
  }
  const int64_t retry_ms = static_cast<int64_t>(std::ceil(missing / limit_.rate * 1000));
  const std::string retry = absl::StrCat(std::max<int64_t>(retry_ms, 1));
  return Error(absl::StatusCode::kResourceExhausted, "RATE_LIMITED",
               absl::StrCat("rate limit of ", limit_.rate, " calls/s (burst ", limit_.burst,
                            ") reached for ", subject, "; retry after ", retry, " ms"),
               {{"retry_after_ms", retry}});
}

}  // namespace htx::gateway
