// GetOrganization directly against the registry and through the gateway, in
// one run, at 1, 16 and 256 outstanding calls: what the front door costs.
// Both paths run over real gRPC to port-0 servers in this process (registry,
// gateway and the load share the machine's cores). Direct calls carry a
// principal signed with the internal key, as the gateway's own do; calls
// through the gateway carry a province editor's bearer token (verified once,
// then cached), are authorized and forwarded as bytes.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/run_load.h"
#include "common/server/caller.h"
#include "common/testing/testing.h"
#include "services/gateway/gateway_harness.h"
#include "services/registry/registry_logic.h"

namespace htx::gateway {
namespace {

namespace rv1 = ::htx::registry::v1;

constexpr char kHanoi[] = "provinces/01";
constexpr char kCommune[] = "provinces/01/communes/00001";
constexpr int kOrganizations = 2000;

struct Fixture {
  std::unique_ptr<GatewayHarness> harness;
  std::unique_ptr<rv1::RegistryService::Stub> direct;
  std::unique_ptr<rv1::RegistryService::Stub> gateway;
  std::vector<std::string> names;
  absl::Status ready;
};

Fixture* SharedFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture();
    f->harness = std::make_unique<GatewayHarness>();
    registry::RegistryHarness& registry = f->harness->registry();
    rv1::ImportUnitsRequest units;
    *units.add_units() = registry::MakeUnit(kHanoi, rv1::UNIT_KIND_CITY, "Thành phố Hà Nội");
    *units.add_units() = registry::MakeUnit(kCommune, rv1::UNIT_KIND_WARD, "Phường mẫu 1");
    rv1::ImportUnitsResponse imported;
    f->ready =
        FromGrpcStatus(registry.stub().ImportUnits(testing::Context().get(), units, &imported));
    auto context = testing::Context(120);
    auto stream = registry.stub().ImportRegistry(context.get());
    for (int batch = 0; f->ready.ok() && batch < kOrganizations / 1000; ++batch) {
      rv1::ImportRegistryRequest request;
      for (int i = 0; i < 1000; ++i) {
        rv1::ImportRow* row = request.add_rows();
        row->set_request_id(absl::StrCat("bench-", batch * 1000 + i));
        rv1::Organization* o = row->mutable_organization();
        o->set_registration_code(absl::StrFormat("01%08d", batch * 1000 + i));
        o->set_kind(rv1::ORGANIZATION_KIND_HTX);
        o->set_display_name(absl::StrCat("HTX mẫu ", batch * 1000 + i));
        o->set_commune(kCommune);
        o->set_sector(rv1::SECTOR_AGRICULTURE);
        *o->mutable_founding_date() = registry::FromDayKey(20200315);
        o->set_members(20);
        f->names.push_back(absl::StrFormat("provinces/01/organizations/01%08d", batch * 1000 + i));
      }
      rv1::ImportRegistryResponse response;
      if (!stream->Write(request) || !stream->Read(&response) || response.applied() != 1000) {
        f->ready = absl::InternalError("sample import failed");
      }
    }
    stream->WritesDone();
    if (f->ready.ok()) f->ready = FromGrpcStatus(stream->Finish());
    f->direct = rv1::RegistryService::NewStub(registry.channel());
    f->gateway = rv1::RegistryService::NewStub(server::HeaderChannel(
        f->harness->address(),
        {{"authorization",
          absl::StrCat("Bearer ", f->harness->Token(auth::v1::ROLE_PROVINCE_EDITOR, kHanoi))}}));
    return f;
  }();
  return fixture;
}

void RunGets(benchmark::State& state, bool through_gateway) {
  Fixture* fixture = SharedFixture();
  if (!fixture->ready.ok()) {
    state.SkipWithError(fixture->ready.ToString().c_str());
    return;
  }
  rv1::RegistryService::Stub& stub = through_gateway ? *fixture->gateway : *fixture->direct;
  const std::vector<std::string>& names = fixture->names;
  bench::RunLoad<rv1::GetOrganizationRequest, rv1::Organization>(
      state, /*calls_per_iteration=*/state.range(0) == 1 ? 3000 : 30000,
      [&names](int64_t index, rv1::GetOrganizationRequest* request) {
        const uint64_t mixed = static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ull;
        request->set_name(names[(mixed >> 32) % names.size()]);
      },
      [&stub](grpc::ClientContext* context, const rv1::GetOrganizationRequest* request,
              rv1::Organization* response, std::function<void(grpc::Status)> done) {
        stub.async()->GetOrganization(context, request, response, std::move(done));
      });
}

void BM_GetDirect(benchmark::State& state) { RunGets(state, /*through_gateway=*/false); }
void BM_GetThroughGateway(benchmark::State& state) { RunGets(state, /*through_gateway=*/true); }

BENCHMARK(BM_GetDirect)
    ->ArgName("outstanding")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Iterations(3)
    ->UseRealTime();
BENCHMARK(BM_GetThroughGateway)
    ->ArgName("outstanding")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace
}  // namespace htx::gateway

BENCHMARK_MAIN();
