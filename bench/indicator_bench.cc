// Indicator service benchmarks over real gRPC, against an IndicatorHarness
// (temp RocksDB store with fsync'd group commits, port-0 server, signed
// ministry-wide principal) holding the shipped 2026 catalog (Phụ lục I and II).
//
// - BM_IngestValues: N IngestValues streams, each sending batches of 1000 new
//   values (distinct names over many communes, codes and columns, each row with
//   a request_id) and waiting for each answer before the next batch, which is
//   the stream's back-pressure. items_per_second counts acknowledged values;
//   any rejected row aborts the benchmark with SkipWithError.
// - BM_Rollup*: setup (untimed) ingests the own values of 34 provinces and of
//   their communes (100 each by default; HTX_BENCH_COMMUNES overrides) for
//   every non-heading indicator × 4 columns, then times GetRollup (the nation
//   from the provinces, a province, every province in turn, and the nation
//   straight from every commune with basis COMMUNES).
//
// The server and this load generator share the machine's cores.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/closed_loop.h"
#include "bench/run_load.h"
#include "common/status/status.h"
#include "common/testing/testing.h"
#include "services/indicator/catalog_data.h"
#include "services/indicator/indicator_harness.h"

namespace htx::indicator {
namespace {

constexpr int kYear = 2026;
constexpr int kBatch = 1000;  // the contract's maximum rows per message
constexpr int kProvinces = 34;
// The four columns Phụ lục I declares; Phụ lục II declares them too (and actual_2023).
constexpr const char* kColumns[] = {"actual_2024", "plan_2025", "estimate_2025", "plan_2026"};

int CommunesPerProvince() {
  const char* env = std::getenv("HTX_BENCH_COMMUNES");
  const int communes = env != nullptr ? std::atoi(env) : 100;
  return std::clamp(communes, 1, 99999);
}

// One cell of a unit's table: an indicator code and a column.
struct Cell {
  std::string code;
  std::string column;
};

// A harness with the shipped 2026 catalog imported.
struct Fixture {
  std::unique_ptr<IndicatorHarness> harness;
  absl::Status ready;
  std::vector<Cell> cells;  // every non-heading indicator × kColumns
  int communes_per_province = 0;
  double setup_seconds = 0;
  int64_t setup_values = 0;
};

absl::Status ImportShippedCatalog(Fixture& fixture) {
  absl::StatusOr<v1::ImportCatalogRequest> request =
      LoadCatalogFile(absl::StrCat(HTX_SOURCE_DIR, "/", kCatalog2026Path));
  if (!request.ok()) return request.status();
  for (const v1::Indicator& indicator : request->indicators()) {
    if (indicator.heading()) continue;
    for (const char* column : kColumns) fixture.cells.push_back({indicator.code(), column});
  }
  v1::Catalog catalog;
  return FromGrpcStatus(
      fixture.harness->stub().ImportCatalog(testing::Context(60).get(), *request, &catalog));
}

std::string ProvinceName(int province) { return absl::StrFormat("provinces/%02d", province); }
std::string CommuneName(int province, int commune) {
  return absl::StrFormat("provinces/%02d/communes/%05d", province, commune);
}

// Row `index` of a unit: a whole number (every indicator accepts one).
void AddRow(const std::string& unit, const Cell& cell, int64_t index, const std::string& id_prefix,
            v1::IngestValuesRequest* batch) {
  v1::ValueWrite* row = batch->add_rows();
  row->set_name(absl::StrCat(unit, "/indicator-values/", kYear, "/", cell.column, "/", cell.code));
  row->mutable_value()->set_state(v1::VALUE_STATE_NUMBER);
  row->mutable_value()->set_number(absl::StrCat(1 + (index * 7919) % 1000));
  row->set_request_id(absl::StrCat(id_prefix, index));
}

// What one stream (or several) measured.
struct StreamStats {
  int64_t applied = 0;
  int64_t rejected = 0;
  std::string first_error;
  std::vector<double> batch_latencies_us;

  void Merge(const StreamStats& other) {
    applied += other.applied;
    rejected += other.rejected;
    if (first_error.empty()) first_error = other.first_error;
    batch_latencies_us.insert(batch_latencies_us.end(), other.batch_latencies_us.begin(),
                              other.batch_latencies_us.end());
  }
};

// Sends the batches `make(i, &batch)` for i in [0, batches) on one stream,
// one in flight; stops at the first rejected row or broken stream.
template <typename Make>
StreamStats RunStream(v1::IndicatorService::Stub& stub, int batches, const Make& make) {
  StreamStats stats;
  auto context = testing::Context(3600);
  auto stream = stub.IngestValues(context.get());
  for (int i = 0; i < batches && stats.first_error.empty(); ++i) {
    v1::IngestValuesRequest batch;
    batch.set_source_system("bench");
    make(i, &batch);
    const auto start = bench::Clock::now();
    v1::IngestValuesResponse response;
    if (!stream->Write(batch) || !stream->Read(&response)) {
      stats.first_error = "the stream broke";
      break;
    }
    stats.batch_latencies_us.push_back(
        std::chrono::duration<double, std::micro>(bench::Clock::now() - start).count());
    stats.applied += response.applied();
    stats.rejected += response.rejected() + response.already_applied();
    for (const type::v1::RowResult& result : response.results()) {
      if (result.outcome() != type::v1::RowResult::OUTCOME_APPLIED) {
        stats.first_error = absl::StrCat("row ", result.index(), " of batch ", i,
                                         " not applied: ", result.message());
        break;
      }
    }
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!status.ok() && stats.first_error.empty()) {
    stats.first_error = absl::StrCat("stream ended with ", status.error_message());
  }
  return stats;
}

// Runs `streams` streams at once, stream s sending `batches` batches made by make(s, i, &batch).
template <typename Make>
StreamStats RunStreams(v1::IndicatorService::Stub& stub, int streams, int batches,
                       const Make& make) {
  std::vector<StreamStats> results(streams);
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      results[s] = RunStream(stub, batches,
                             [&](int i, v1::IngestValuesRequest* batch) { make(s, i, batch); });
    });
  }
  for (std::thread& thread : threads) thread.join();
  StreamStats all;
  for (const StreamStats& r : results) all.Merge(r);
  return all;
}

// Every unit's own values: the 34 provinces', then their communes', by stream.
absl::Status IngestNation(Fixture& fixture) {
  const int communes = fixture.communes_per_province;
  std::vector<std::string> units;
  for (int p = 1; p <= kProvinces; ++p) units.push_back(ProvinceName(p));
  for (int p = 1; p <= kProvinces; ++p) {
    for (int c = 1; c <= communes; ++c) units.push_back(CommuneName(p, c));
  }
  const int64_t cells = static_cast<int64_t>(fixture.cells.size());
  const int64_t total = static_cast<int64_t>(units.size()) * cells;
  constexpr int kStreams = 4;
  const int64_t batches = (total + kBatch - 1) / kBatch;
  const int per_stream = static_cast<int>((batches + kStreams - 1) / kStreams);
  const auto start = bench::Clock::now();
  StreamStats stats = RunStreams(
      fixture.harness->stub(), kStreams, per_stream,
      [&](int stream, int i, v1::IngestValuesRequest* batch) {
        const int64_t first = (static_cast<int64_t>(stream) * per_stream + i) * kBatch;
        for (int64_t index = first; index < std::min(total, first + kBatch); ++index) {
          AddRow(units[index / cells], fixture.cells[index % cells], index, "setup-", batch);
        }
      });
  fixture.setup_seconds = std::chrono::duration<double>(bench::Clock::now() - start).count();
  fixture.setup_values = stats.applied;
  if (!stats.first_error.empty()) return absl::InternalError(stats.first_error);
  if (stats.applied != total) {
    return absl::InternalError(absl::StrCat(stats.applied, " of ", total, " values applied"));
  }
  std::fprintf(stderr,
               "setup: %lld values (%d provinces, %d communes each, %lld cells) in %.1f s"
               " = %.0f values/s\n",
               static_cast<long long>(total), kProvinces, communes, static_cast<long long>(cells),
               fixture.setup_seconds, static_cast<double>(total) / fixture.setup_seconds);
  return absl::OkStatus();
}

enum class Scenario { kIngest, kRollup };

struct LiveFixture {
  Scenario scenario = Scenario::kIngest;
  std::unique_ptr<Fixture> fixture;
};
LiveFixture& Live() {
  static LiveFixture* live = new LiveFixture();
  return *live;
}

// One harness alive at a time: a scenario's is set up (untimed) by its first
// benchmark and torn down when another scenario starts.
Fixture* ReadyFixture(benchmark::State& state, Scenario scenario) {
  LiveFixture& live = Live();
  if (live.fixture == nullptr || live.scenario != scenario) {
    live.fixture.reset();
    live.fixture = std::make_unique<Fixture>();
    live.scenario = scenario;
    Fixture& fixture = *live.fixture;
    fixture.harness = std::make_unique<IndicatorHarness>();
    fixture.communes_per_province = CommunesPerProvince();
    fixture.ready = ImportShippedCatalog(fixture);
    if (fixture.ready.ok() && scenario == Scenario::kRollup) fixture.ready = IngestNation(fixture);
  }
  if (!live.fixture->ready.ok()) {
    state.SkipWithError(absl::StrCat("setup failed: ", live.fixture->ready.ToString()).c_str());
    return nullptr;
  }
  return live.fixture.get();
}

// ---- Ingest -------------------------------------------------------------------------

void BM_IngestValues(benchmark::State& state) {
  Fixture* fixture = ReadyFixture(state, Scenario::kIngest);
  if (fixture == nullptr) return;
  const int streams = static_cast<int>(state.range(0));
  constexpr int kBatchesPerIteration = 100;  // 100,000 values per iteration, in all streams
  const int per_stream = kBatchesPerIteration / streams;
  const int64_t cells = static_cast<int64_t>(fixture->cells.size());
  // Values never written before: communes of provinces 40..99, 252 cells each.
  static std::atomic<int64_t> next_value{0};
  StreamStats stats;
  const double cpu_start = bench::ProcessCpuSeconds();
  for (auto _ : state) {
    const int64_t base = next_value.fetch_add(static_cast<int64_t>(streams) * per_stream * kBatch);
    stats.Merge(RunStreams(fixture->harness->stub(), streams, per_stream,
                           [&](int stream, int i, v1::IngestValuesRequest* batch) {
                             const int64_t first =
                                 base + (static_cast<int64_t>(stream) * per_stream + i) * kBatch;
                             for (int64_t index = first; index < first + kBatch; ++index) {
                               const int64_t unit = index / cells;
                               AddRow(CommuneName(40 + static_cast<int>(unit / 99999),
                                                  1 + static_cast<int>(unit % 99999)),
                                      fixture->cells[index % cells], index, "ingest-", batch);
                             }
                           }));
    if (!stats.first_error.empty()) break;
  }
  state.counters["errors"] = static_cast<double>(stats.rejected);
  if (!stats.first_error.empty()) {
    state.SkipWithError(
        absl::StrCat(stats.rejected, " rows not applied; first: ", stats.first_error).c_str());
    return;
  }
  state.SetItemsProcessed(stats.applied);
  state.counters["cpu_us_per_value"] =
      (bench::ProcessCpuSeconds() - cpu_start) * 1e6 / static_cast<double>(stats.applied);
  state.counters["batch_p50_ms"] = bench::Percentile(stats.batch_latencies_us, 0.50) / 1000;
  state.counters["batch_p99_ms"] = bench::Percentile(stats.batch_latencies_us, 0.99) / 1000;
}
BENCHMARK(BM_IngestValues)
    ->ArgName("streams")
    ->Arg(1)
    ->Arg(4)
    ->Arg(8)
    ->Iterations(3)
    ->UseRealTime();

// ---- Roll-ups -------------------------------------------------------------------------

// Times GetRollup of each unit of `units` in turn (one call in flight).
void RunRollups(benchmark::State& state, const std::vector<std::string>& units,
                int64_t values_read_per_pass,
                v1::RollupBasis basis = v1::ROLLUP_BASIS_UNSPECIFIED) {
  Fixture* fixture = ReadyFixture(state, Scenario::kRollup);
  if (fixture == nullptr) return;
  int64_t calls = 0;
  int64_t rolled = 0;
  int32_t children = 0;
  const double cpu_start = bench::ProcessCpuSeconds();
  for (auto _ : state) {
    for (const std::string& unit : units) {
      v1::GetRollupRequest request;
      request.set_unit(unit);
      request.set_year(kYear);
      request.set_basis(basis);
      v1::Rollup rollup;
      grpc::Status status =
          fixture->harness->stub().GetRollup(testing::Context(60).get(), request, &rollup);
      if (!status.ok()) {
        state.SkipWithError(
            absl::StrCat("GetRollup(\"", unit, "\"): ", status.error_message()).c_str());
        return;
      }
      ++calls;
      rolled = rollup.values_size();
      children = rollup.child_units();
    }
  }
  const int64_t passes = state.iterations();
  state.SetItemsProcessed(passes * values_read_per_pass);  // stored values read per second
  state.counters["values_read"] = static_cast<double>(values_read_per_pass);
  state.counters["calls"] = static_cast<double>(units.size());
  state.counters["child_units"] = children;
  state.counters["rollup_values"] = static_cast<double>(rolled);
  state.counters["cpu_ms_per_call"] =
      (bench::ProcessCpuSeconds() - cpu_start) * 1e3 / static_cast<double>(calls);
  state.counters["setup_values_per_s"] =
      static_cast<double>(fixture->setup_values) / fixture->setup_seconds;
  state.counters["communes_per_province"] = fixture->communes_per_province;
}

int64_t CellsPerUnit() { return static_cast<int64_t>(Live().fixture->cells.size()); }

// The nation: the contract rolls up the 34 provinces' own values.
void BM_RollupNation(benchmark::State& state) {
  if (ReadyFixture(state, Scenario::kRollup) == nullptr) return;
  RunRollups(state, {""}, kProvinces * CellsPerUnit());
}
BENCHMARK(BM_RollupNation)->Unit(benchmark::kMillisecond)->MinTime(2)->UseRealTime();

// One province: its communes' own values.
void BM_RollupProvince(benchmark::State& state) {
  if (ReadyFixture(state, Scenario::kRollup) == nullptr) return;
  RunRollups(state, {ProvinceName(1)}, Live().fixture->communes_per_province * CellsPerUnit());
}
BENCHMARK(BM_RollupProvince)->Unit(benchmark::kMillisecond)->MinTime(2)->UseRealTime();

// Every province in turn (34 calls): every commune value of the country is read
// once, the work of a nation-wide roll-up from the communes.
void BM_RollupAllProvinces(benchmark::State& state) {
  if (ReadyFixture(state, Scenario::kRollup) == nullptr) return;
  std::vector<std::string> provinces;
  for (int p = 1; p <= kProvinces; ++p) provinces.push_back(ProvinceName(p));
  RunRollups(state, provinces, kProvinces * Live().fixture->communes_per_province * CellsPerUnit());
}
BENCHMARK(BM_RollupAllProvinces)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// The nation straight from every commune's own values in one call (basis
// COMMUNES): the same values as BM_RollupAllProvinces, one prefix scan.
void BM_RollupNationFromCommunes(benchmark::State& state) {
  if (ReadyFixture(state, Scenario::kRollup) == nullptr) return;
  RunRollups(state, {""}, kProvinces * Live().fixture->communes_per_province * CellsPerUnit(),
             v1::ROLLUP_BASIS_COMMUNES);
}
BENCHMARK(BM_RollupNationFromCommunes)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime();

}  // namespace

// Destroys the live harness (server, store, temp directory) before exit.
void ReleaseFixtures() { Live().fixture.reset(); }

}  // namespace htx::indicator

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  htx::indicator::ReleaseFixtures();
  return 0;
}
