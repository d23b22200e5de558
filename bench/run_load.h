// The body of a Google Benchmark over a closed loop of gRPC calls, shared by
// every scenario: each iteration runs `calls_per_iteration` calls with
// state.range(0) outstanding; items_per_second counts OK calls only, and any
// non-OK answer ends the benchmark with SkipWithError naming the first error.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include "absl/strings/str_format.h"
#include "bench/closed_loop.h"

namespace htx::bench {

// CPU time of the whole process (every thread: client, server, writer, RocksDB).
inline double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// The benchmark body shared by every scenario: each iteration runs
// `calls_per_iteration` calls with state.range(0) outstanding.
template <typename Request, typename Response>
void RunLoad(benchmark::State& state, int64_t calls_per_iteration,
             const typename ClosedLoop<Request, Response>::Fill& fill,
             const typename ClosedLoop<Request, Response>::Start& start) {
  LoopOptions options;
  options.outstanding = static_cast<int>(state.range(0));
  options.max_calls = calls_per_iteration;
  Samples samples;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    samples.Merge(ClosedLoop<Request, Response>::Run(options, fill, start));
    if (samples.failed > 0) break;
  }
  state.counters["errors"] = static_cast<double>(samples.failed);
  if (samples.failed > 0) {
    state.SkipWithError(absl::StrFormat("%d of %d calls failed; first: %s", samples.failed,
                                        samples.ok + samples.failed, samples.first_error)
                            .c_str());
    return;
  }
  state.SetItemsProcessed(samples.ok);
  // Client and server share the process and the cores: CPU per call bounds calls/s.
  state.counters["cpu_us_per_call"] = (ProcessCpuSeconds() - cpu_start) * 1e6 / samples.ok;
  state.counters["p50_us"] = Percentile(samples.latencies_us, 0.50);
  state.counters["p99_us"] = Percentile(samples.latencies_us, 0.99);
}

}  // namespace htx::bench
