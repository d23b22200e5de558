// Registry load benchmarks over real gRPC: durable creates, gets by name and
// as-of counts. Each benchmark keeps N calls outstanding with the callback
// client API (a closed loop: a finished call starts the next) against a
// RegistryHarness (temp RocksDB store, port-0 server, fsync'd group commits).
// items_per_second counts acknowledged (OK) calls; p50_us/p99_us are per-call
// latencies. Any non-OK answer aborts the benchmark with SkipWithError.
//
// The server and this load generator share the machine's cores.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/closed_loop.h"
#include "bench/run_load.h"
#include "common/testing/testing.h"
#include "services/registry/registry_harness.h"
#include "services/registry/registry_logic.h"
#include "services/registry/sample_data.h"

namespace htx::registry {
namespace {

constexpr char kHanoi[] = "provinces/01";
constexpr char kCommune[] = "provinces/01/communes/00001";

// ---- Fixtures -------------------------------------------------------------------

// A registry with a scenario's data loaded; `ready` says whether setup worked.
struct Fixture {
  std::unique_ptr<RegistryHarness> harness;
  absl::Status ready;
  std::vector<std::string> names;  // organisations to read
  std::string commune;             // a commune of the Hà Nội sample
  int64_t sample_organizations = 0;
  int64_t commune_organizations = 0;
};

absl::Status ImportUnits(RegistryHarness& harness, const std::vector<v1::Unit>& units) {
  v1::ImportUnitsRequest request;
  for (const v1::Unit& unit : units) *request.add_units() = unit;
  v1::ImportUnitsResponse response;
  return FromGrpcStatus(harness.stub().ImportUnits(testing::Context().get(), request, &response));
}

// Setup only (untimed): streams rows in batches of 1000, the contract's maximum.
absl::Status ImportRows(RegistryHarness& harness, const std::vector<v1::ImportRow>& rows) {
  constexpr size_t kBatch = 1000;
  auto context = testing::Context(300);
  auto stream = harness.stub().ImportRegistry(context.get());
  for (size_t begin = 0; begin < rows.size(); begin += kBatch) {
    v1::ImportRegistryRequest batch;
    for (size_t i = begin; i < std::min(rows.size(), begin + kBatch); ++i) {
      *batch.add_rows() = rows[i];
    }
    v1::ImportRegistryResponse response;
    if (!stream->Write(batch) || !stream->Read(&response)) break;
    for (const type::v1::RowResult& result : response.results()) {
      if (result.outcome() == type::v1::RowResult::OUTCOME_REJECTED) {
        return absl::InternalError(
            absl::StrCat("row ", begin + result.index(), " rejected: ", result.message()));
      }
    }
  }
  stream->WritesDone();
  return FromGrpcStatus(stream->Finish());
}

// Unique across the process: "01" + 8 digits, a valid registration code.
std::string NextRegistrationCode() {
  static std::atomic<int64_t> counter{0};
  return absl::StrFormat("01%08d", counter.fetch_add(1));
}

v1::Organization MakeOrganization(const std::string& code) {
  v1::Organization o;
  o.set_registration_code(code);
  o.set_kind(v1::ORGANIZATION_KIND_HTX);
  o.set_display_name(absl::StrCat("HTX đo tải ", code));
  o.set_commune(kCommune);
  o.set_sector(v1::SECTOR_AGRICULTURE);
  *o.mutable_founding_date() = FromDayKey(20200101);
  return o;
}

// Hà Nội and one commune: what a created organisation refers to.
absl::Status ImportHanoiAndOneCommune(RegistryHarness& harness) {
  return ImportUnits(harness, {MakeUnit(kHanoi, v1::UNIT_KIND_CITY, "Thành phố Hà Nội"),
                               MakeUnit(kCommune, v1::UNIT_KIND_WARD, "Phường mẫu 1")});
}

absl::Status SetUpReads(Fixture& fixture) {
  constexpr int kOrganizations = 10000;
  if (absl::Status s = ImportHanoiAndOneCommune(*fixture.harness); !s.ok()) return s;
  std::vector<v1::ImportRow> rows(kOrganizations);
  for (v1::ImportRow& row : rows) {
    const std::string code = NextRegistrationCode();
    *row.mutable_organization() = MakeOrganization(code);
    row.set_request_id(absl::StrCat("bench-read-", code));
    fixture.names.push_back(absl::StrCat(kHanoi, "/organizations/", code));
  }
  return ImportRows(*fixture.harness, rows);
}

absl::Status SetUpCounts(Fixture& fixture) {
  SampleRegistry sample = GenerateHanoiSample(2026);
  if (sample.units.empty()) return absl::InternalError("the Hà Nội sample has no units");
  std::vector<v1::Unit> units = {MakeUnit(kHanoi, v1::UNIT_KIND_CITY, "Thành phố Hà Nội")};
  units.insert(units.end(), sample.units.begin(), sample.units.end());
  if (absl::Status s = ImportUnits(*fixture.harness, units); !s.ok()) return s;
  fixture.commune = sample.units.front().name();
  for (const v1::ImportRow& row : sample.rows) {
    if (!row.has_organization()) continue;
    ++fixture.sample_organizations;
    if (row.organization().commune() == fixture.commune) ++fixture.commune_organizations;
  }
  return ImportRows(*fixture.harness, sample.rows);
}

enum class Scenario { kWrites, kWritesNoSync, kReads, kCounts };

// The one registry alive at a time and its scenario.
struct LiveFixture {
  Scenario scenario = Scenario::kWrites;
  std::unique_ptr<Fixture> fixture;
};
LiveFixture& Live() {
  static LiveFixture* live = new LiveFixture();
  return *live;
}

// A scenario's registry is set up (untimed) the first time one of its
// benchmarks runs and torn down when another scenario starts, so an idle
// server and store never share the cores with the next one.
Fixture& UseFixture(Scenario scenario) {
  LiveFixture& live = Live();
  if (live.fixture != nullptr && live.scenario == scenario) return *live.fixture;
  live.fixture.reset();
  live.fixture = std::make_unique<Fixture>();
  live.scenario = scenario;
  Fixture& fixture = *live.fixture;
  RegistryHarness::Options options;
  options.sync = scenario != Scenario::kWritesNoSync;
  fixture.harness = std::make_unique<RegistryHarness>(options);
  switch (scenario) {
    case Scenario::kWrites:
    case Scenario::kWritesNoSync:
      fixture.ready = ImportHanoiAndOneCommune(*fixture.harness);
      break;
    case Scenario::kReads:
      fixture.ready = SetUpReads(fixture);
      break;
    case Scenario::kCounts:
      fixture.ready = SetUpCounts(fixture);
      break;
  }
  return fixture;
}

Fixture* ReadyFixture(benchmark::State& state, Scenario scenario) {
  Fixture& fixture = UseFixture(scenario);
  if (!fixture.ready.ok()) {
    state.SkipWithError(absl::StrCat("setup failed: ", fixture.ready.ToString()).c_str());
    return nullptr;
  }
  return &fixture;
}

// ---- Benchmarks -------------------------------------------------------------------

void RunCreates(benchmark::State& state, Scenario scenario, bool with_request_id) {
  Fixture* fixture = ReadyFixture(state, scenario);
  if (fixture == nullptr) return;
  v1::RegistryService::Stub& stub = fixture->harness->stub();
  bench::RunLoad<v1::CreateOrganizationRequest, v1::Organization>(
      state, /*calls_per_iteration=*/state.range(0) == 1 ? 500 : 10000,
      [with_request_id](int64_t, v1::CreateOrganizationRequest* request) {
        const std::string code = NextRegistrationCode();
        request->set_parent(kHanoi);
        *request->mutable_organization() = MakeOrganization(code);
        // An idempotency record is written with the organisation.
        if (with_request_id) request->set_request_id(absl::StrCat("bench-", code));
      },
      [&stub](grpc::ClientContext* context, const v1::CreateOrganizationRequest* request,
              v1::Organization* response, std::function<void(grpc::Status)> done) {
        stub.async()->CreateOrganization(context, request, response, std::move(done));
      });
}

void BM_DurableCreate(benchmark::State& state) { RunCreates(state, Scenario::kWrites, false); }
BENCHMARK(BM_DurableCreate)->ArgName("outstanding")->Arg(1)->Arg(64)->Iterations(3)->UseRealTime();

void BM_DurableCreateWithRequestId(benchmark::State& state) {
  RunCreates(state, Scenario::kWrites, true);
}
BENCHMARK(BM_DurableCreateWithRequestId)
    ->ArgName("outstanding")
    ->Arg(64)
    ->Iterations(3)
    ->UseRealTime();

// Baseline, not durable: the same creates without the fsync per group.
void BM_CreateNoSync(benchmark::State& state) { RunCreates(state, Scenario::kWritesNoSync, false); }
BENCHMARK(BM_CreateNoSync)->ArgName("outstanding")->Arg(64)->Iterations(3)->UseRealTime();

void BM_GetOrganization(benchmark::State& state) {
  Fixture* fixture = ReadyFixture(state, Scenario::kReads);
  if (fixture == nullptr) return;
  v1::RegistryService::Stub& stub = fixture->harness->stub();
  const std::vector<std::string>& names = fixture->names;
  bench::RunLoad<v1::GetOrganizationRequest, v1::Organization>(
      state, /*calls_per_iteration=*/state.range(0) == 1 ? 5000 : 50000,
      [&names](int64_t index, v1::GetOrganizationRequest* request) {
        // A multiplicative hash of the index: a fixed pseudo-random order, thread-safe.
        const uint64_t mixed = static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ull;
        request->set_name(names[(mixed >> 32) % names.size()]);
      },
      [&stub](grpc::ClientContext* context, const v1::GetOrganizationRequest* request,
              v1::Organization* response, std::function<void(grpc::Status)> done) {
        stub.async()->GetOrganization(context, request, response, std::move(done));
      });
}
BENCHMARK(BM_GetOrganization)
    ->ArgName("outstanding")
    ->Arg(1)
    ->Arg(256)
    ->Iterations(3)
    ->UseRealTime();

// GetCounts as of 31/12/2025 on the Hà Nội sample registry.
enum class Subtree { kProvince, kCommune, kNation };

void RunCounts(benchmark::State& state, Subtree subtree) {
  Fixture* fixture = ReadyFixture(state, Scenario::kCounts);
  if (fixture == nullptr) return;
  v1::RegistryService::Stub& stub = fixture->harness->stub();
  // The nation holds only the Hà Nội sample here: the same rows by the nation-wide scan.
  const std::string unit = subtree == Subtree::kProvince  ? std::string(kHanoi)
                           : subtree == Subtree::kCommune ? fixture->commune
                                                          : std::string();
  state.counters["organizations"] =
      static_cast<double>(subtree == Subtree::kCommune ? fixture->commune_organizations
                                                       : fixture->sample_organizations);
  bench::RunLoad<v1::GetCountsRequest, v1::Counts>(
      state, /*calls_per_iteration=*/subtree == Subtree::kCommune ? 2000 : 100,
      [&unit](int64_t, v1::GetCountsRequest* request) {
        request->set_unit(unit);
        *request->mutable_as_of() = FromDayKey(20251231);
      },
      [&stub](grpc::ClientContext* context, const v1::GetCountsRequest* request,
              v1::Counts* response, std::function<void(grpc::Status)> done) {
        stub.async()->GetCounts(context, request, response, std::move(done));
      });
}

void BM_CountsHanoi(benchmark::State& state) { RunCounts(state, Subtree::kProvince); }
void BM_CountsHanoiCommune(benchmark::State& state) { RunCounts(state, Subtree::kCommune); }
void BM_CountsNation(benchmark::State& state) { RunCounts(state, Subtree::kNation); }
BENCHMARK(BM_CountsHanoi)->ArgName("outstanding")->Arg(1)->Iterations(3)->UseRealTime();
BENCHMARK(BM_CountsHanoiCommune)->ArgName("outstanding")->Arg(1)->Iterations(3)->UseRealTime();
BENCHMARK(BM_CountsNation)->ArgName("outstanding")->Arg(1)->Iterations(3)->UseRealTime();

}  // namespace

// Destroys the live registry (server, store, temp directory) before exit.
void ReleaseFixtures() { Live().fixture.reset(); }

}  // namespace htx::registry

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  htx::registry::ReleaseFixtures();
  return 0;
}
