// Per-principal token buckets: each subject may make `rate` calls a second on
// average with bursts up to `burst`. A refusal says when to retry.
#pragma once

#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace htx::gateway {

struct RateLimit {
  double rate = 200;   // calls per second, sustained; <= 0 turns limiting off
  double burst = 400;  // calls allowed at once after a quiet period
};

class RateLimiter {
 public:
  explicit RateLimiter(
      RateLimit limit, std::function<absl::Time()> clock = [] { return absl::Now(); });

  // OK and one token taken, or RESOURCE_EXHAUSTED (reason RATE_LIMITED) with
  // metadata retry_after_ms: when the next token will be there.
  absl::Status Take(absl::string_view subject);

 private:
  struct Bucket {
    double tokens;
    absl::Time refilled;
  };
  // Sharded so that concurrent callers with different subjects rarely meet on
  // one lock.
  static constexpr int kShards = 16;
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };

  RateLimit limit_;
  std::function<absl::Time()> clock_;
  Shard shards_[kShards];
};

}  // namespace htx::gateway
