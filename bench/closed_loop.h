// A closed-loop load driver on the gRPC callback client API, shared by the
// Google Benchmark scenarios and the htx-load generator: N slots, each with one
// call in flight; a finished call records its latency and status code and
// starts the slot's next call from its own callback (no thread hop).
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace htx::bench {

using Clock = std::chrono::steady_clock;

// What the calls of one run measured.
struct Samples {
  int64_t ok = 0;
  int64_t failed = 0;
  // Calls by canonical status code (0 = OK).
  std::map<int, int64_t> codes;
  std::string first_error;
  // Latencies of the OK calls only: a failure is never a data point.
  std::vector<double> latencies_us;

  void Merge(const Samples& other) {
    ok += other.ok;
    failed += other.failed;
    for (const auto& [code, count] : other.codes) codes[code] += count;
    if (first_error.empty()) first_error = other.first_error;
    latencies_us.insert(latencies_us.end(), other.latencies_us.begin(), other.latencies_us.end());
  }
};

// The value at `fraction` (0.5 = median) of `values`, which it reorders.
inline double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  auto nth = values.begin() + static_cast<ptrdiff_t>(fraction * (values.size() - 1));
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

struct LoopOptions {
  int outstanding = 1;
  // Stop after this many calls, or at `until`, whichever comes first.
  int64_t max_calls = INT64_MAX;
  Clock::time_point until = Clock::time_point::max();
  // Benchmarks stop at the first failure; a load generator counts them.
  bool stop_on_error = true;
  std::chrono::seconds call_deadline{30};
};

template <typename Request, typename Response>
class ClosedLoop {
 public:
  // Fills the request of call `index` (0-based); runs on gRPC threads.
  using Fill = std::function<void(int64_t index, Request* request)>;
  // Starts one call through stub->async()->Method(context, request, response, done).
  using Start = std::function<void(grpc::ClientContext*, const Request*, Response*,
                                   std::function<void(grpc::Status)>)>;

  static Samples Run(const LoopOptions& options, const Fill& fill, const Start& start) {
    ClosedLoop loop(options, fill, start);
    loop.RunAndWait();
    Samples samples;
    for (Slot& slot : loop.slots_) samples.Merge(slot.samples);
    return samples;
  }

 private:
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    Request request;
    Response response;
    Clock::time_point started;
    // A slot has one call at a time, so its samples need no lock.
    Samples samples;
  };

  ClosedLoop(const LoopOptions& options, const Fill& fill, const Start& start)
      : options_(options),
        fill_(fill),
        start_(start),
        slots_(static_cast<size_t>(
            std::max<int64_t>(1, std::min<int64_t>(options.outstanding, options.max_calls)))),
        active_(static_cast<int>(slots_.size())) {}

  void RunAndWait() {
    for (Slot& slot : slots_) Launch(slot);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return active_ == 0; });
  }

  void Launch(Slot& slot) {
    const int64_t index = next_.fetch_add(1);
    if (index >= options_.max_calls || stop_.load() || Clock::now() >= options_.until) {
      // Notify under the lock: once the waiter wakes, nothing here touches `this`.
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) cv_.notify_all();
      return;
    }
    slot.context = std::make_unique<grpc::ClientContext>();  // contexts are single-use
    slot.context->set_deadline(std::chrono::system_clock::now() + options_.call_deadline);
    slot.request.Clear();
    slot.response.Clear();
    fill_(index, &slot.request);
    slot.started = Clock::now();
    start_(slot.context.get(), &slot.request, &slot.response,
           [this, &slot](grpc::Status status) { OnDone(slot, status); });
  }

  void OnDone(Slot& slot, const grpc::Status& status) {
    const std::chrono::duration<double, std::micro> latency = Clock::now() - slot.started;
    Samples& samples = slot.samples;
    samples.codes[status.error_code()]++;
    if (status.ok()) {
      ++samples.ok;
      samples.latencies_us.push_back(latency.count());
    } else {
      if (samples.failed++ == 0) {
        samples.first_error = absl::StrCat(status.error_code(), ": ", status.error_message());
      }
      if (options_.stop_on_error) stop_ = true;
    }
    Launch(slot);
  }

  const LoopOptions options_;
  const Fill& fill_;
  const Start& start_;
  std::vector<Slot> slots_;
  std::atomic<int64_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int active_;  // guarded by mu_
};

}  // namespace htx::bench
