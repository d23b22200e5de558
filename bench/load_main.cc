// htx-load: a closed-loop load generator for a running registry (directly or,
// later, through the gateway, which serves the same method names). For each
// level of outstanding calls it runs for --seconds and prints calls/s, p50 and
// p99 of the OK calls, and every status code seen: a non-OK answer is never
// counted as a success.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/closed_loop.h"
#include "common/server/caller.h"
#include "common/server/flags.h"
#include "common/server/health_client.h"
#include "common/status/status.h"
#include "htx/registry/v1/registry.grpc.pb.h"

ABSL_FLAG(std::string, target, "", "HOST:PORT to load (required)");
ABSL_FLAG(std::string, method, "get",
          "get (GetOrganization of existing names), create (durable CreateOrganization) or "
          "counts (GetCounts of --parent)");
ABSL_FLAG(std::string, outstanding, "1,16,256", "levels of calls kept in flight");
ABSL_FLAG(int, seconds, 5, "how long each level runs");
ABSL_FLAG(std::string, parent, "provinces/01",
          "the province whose organisations are read, created in, or counted");
ABSL_FLAG(int, connections, 1, "channels (TCP connections) the calls are spread over");
ABSL_FLAG(std::string, token, "",
          "bearer token for calls through the gateway (without it, calls are signed with "
          "--internal_key_file, for a service reached directly)");

namespace htx::bench {
namespace {

namespace v1 = ::htx::registry::v1;
using Stubs = std::vector<std::unique_ptr<v1::RegistryService::Stub>>;

v1::RegistryService::Stub& StubFor(const Stubs& stubs, int64_t index) {
  return *stubs[static_cast<size_t>(index) % stubs.size()];
}

std::unique_ptr<grpc::ClientContext> SetupContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return context;
}

// Up to 10,000 organisation names under `parent`, to read in a fixed order.
absl::StatusOr<std::vector<std::string>> Names(v1::RegistryService::Stub& stub,
                                               const std::string& parent) {
  std::vector<std::string> names;
  v1::ListOrganizationsRequest request;
  request.set_parent(parent);
  request.set_page_size(1000);
  do {
    v1::ListOrganizationsResponse response;
    grpc::Status status = stub.ListOrganizations(SetupContext().get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    for (const auto& o : response.organizations()) names.push_back(o.name());
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty() && names.size() < 10000);
  if (names.empty()) return absl::FailedPreconditionError(parent + " has no organisations");
  return names;
}

// The first commune of `parent`, where created organisations go.
absl::StatusOr<std::string> FirstCommune(v1::RegistryService::Stub& stub,
                                         const std::string& parent) {
  v1::ListUnitsRequest request;
  request.set_parent(parent);
  request.set_kind(v1::UNIT_KIND_COMMUNE);
  request.set_page_size(1);
  v1::ListUnitsResponse response;
  grpc::Status status = stub.ListUnits(SetupContext().get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (response.units().empty()) return absl::FailedPreconditionError(parent + " has no commune");
  return response.units(0).name();
}

void Print(int outstanding, double seconds, Samples& samples) {
  std::string codes;
  for (const auto& [code, count] : samples.codes) {
    absl::StrAppend(&codes, codes.empty() ? "" : " ",
                    absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), "=", count);
  }
  std::printf("%11d %9lld %10.0f %9.0f %9.0f  %s\n", outstanding,
              static_cast<long long>(samples.ok + samples.failed), samples.ok / seconds,
              Percentile(samples.latencies_us, 0.5), Percentile(samples.latencies_us, 0.99),
              codes.c_str());
  if (!samples.first_error.empty())
    std::printf("%11s first error: %s\n", "", samples.first_error.c_str());
}

int Run() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string method = absl::GetFlag(FLAGS_method);
  const std::string parent = absl::GetFlag(FLAGS_parent);
  if (target.empty()) {
    std::fprintf(stderr, "htx-load: --target=HOST:PORT is required\n");
    return 2;
  }
  std::vector<int> levels;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_outstanding), ',')) {
    int level = 0;
    if (!absl::SimpleAtoi(part, &level) || level < 1) {
      std::fprintf(stderr, "htx-load: --outstanding: \"%s\" is not a positive number\n",
                   std::string(part).c_str());
      return 2;
    }
    levels.push_back(level);
  }
  // Directly to a service, calls are signed with the internal key like the
  // gateway's; through the gateway, they carry a bearer token.
  const std::string token = absl::GetFlag(FLAGS_token);
  absl::StatusOr<auth::InternalKey> key = auth::InternalKey::FromBytes("");
  if (token.empty()) {
    key = auth::InternalKey::FromFile(absl::GetFlag(FLAGS_internal_key_file));
    if (!key.ok()) {
      std::fprintf(stderr, "htx-load: --internal_key_file (or --token): %s\n",
                   std::string(key.status().message()).c_str());
      return 2;
    }
  }
  Stubs stubs;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_connections)); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("htx.load.connection", i);  // distinct args: a connection of its own
    // The generator replays nothing: without the retry filter it spends less
    // of the shared cores on each call.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    stubs.push_back(v1::RegistryService::NewStub(
        token.empty()
            ? server::SignedChannel(target, *key, server::OperatorPrincipal("htx-load"), args)
            : server::HeaderChannel(target, {{"authorization", absl::StrCat("Bearer ", token)}},
                                    args)));
  }
  if (!server::WaitUntilServing(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()), "",
                                absl::Seconds(10))) {
    std::fprintf(stderr, "htx-load: %s is not serving\n", target.c_str());
    return 1;
  }

  std::vector<std::string> names;
  std::string commune;
  if (method == "get") {
    auto listed = Names(*stubs[0], parent);
    if (!listed.ok()) {
      std::fprintf(stderr, "htx-load: %s\n", listed.status().ToString().c_str());
      return 1;
    }
    names = *std::move(listed);
  } else if (method == "create") {
    auto first = FirstCommune(*stubs[0], parent);
    if (!first.ok()) {
      std::fprintf(stderr, "htx-load: %s\n", first.status().ToString().c_str());
      return 1;
    }
    commune = *first;
  } else if (method != "counts") {
    std::fprintf(stderr, "htx-load: --method must be get, create or counts\n");
    return 2;
  }
  // Codes unique to this run, so creates never collide with earlier runs.
  const std::string run_id =
      absl::StrFormat("L%08X", static_cast<uint32_t>(getpid() ^ time(nullptr)));
  std::atomic<int64_t> created{0};

  std::printf("target %s, method %s, %d s per level, %zu connection(s)\n", target.c_str(),
              method.c_str(), absl::GetFlag(FLAGS_seconds), stubs.size());
  std::printf("outstanding     calls    calls/s   p50(us)   p99(us)  status codes\n");
  bool any_failed = false;
  for (int level : levels) {
    LoopOptions options;
    options.outstanding = level;
    options.stop_on_error = false;
    options.until = Clock::now() + std::chrono::seconds(absl::GetFlag(FLAGS_seconds));
    const Clock::time_point started = Clock::now();
    Samples samples;
    if (method == "get") {
      samples = ClosedLoop<v1::GetOrganizationRequest, v1::Organization>::Run(
          options,
          [&names](int64_t index, v1::GetOrganizationRequest* request) {
            const uint64_t mixed = static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ull;
            request->set_name(names[(mixed >> 32) % names.size()]);
          },
          [&stubs](grpc::ClientContext* context, const v1::GetOrganizationRequest* request,
                   v1::Organization* response, std::function<void(grpc::Status)> done) {
            StubFor(stubs, reinterpret_cast<uintptr_t>(request) / 64)
                .async()
                ->GetOrganization(context, request, response, std::move(done));
          });
    } else if (method == "create") {
      samples = ClosedLoop<v1::CreateOrganizationRequest, v1::Organization>::Run(
          options,
          [&](int64_t, v1::CreateOrganizationRequest* request) {
            request->set_parent(parent);
            v1::Organization* o = request->mutable_organization();
            o->set_registration_code(absl::StrFormat("%s%010d", run_id, created.fetch_add(1)));
            o->set_kind(v1::ORGANIZATION_KIND_HTX);
            o->set_display_name("HTX tải thử (dữ liệu mẫu)");
            o->set_commune(commune);
            o->set_sector(v1::SECTOR_OTHER);
            o->mutable_founding_date()->set_year(2020);
            o->mutable_founding_date()->set_month(1);
            o->mutable_founding_date()->set_day(1);
          },
          [&stubs](grpc::ClientContext* context, const v1::CreateOrganizationRequest* request,
                   v1::Organization* response, std::function<void(grpc::Status)> done) {
            StubFor(stubs, reinterpret_cast<uintptr_t>(request) / 64)
                .async()
                ->CreateOrganization(context, request, response, std::move(done));
          });
    } else {
      samples = ClosedLoop<v1::GetCountsRequest, v1::Counts>::Run(
          options,
          [&parent](int64_t, v1::GetCountsRequest* request) {
            request->set_unit(parent);
            request->mutable_as_of()->set_year(2025);
            request->mutable_as_of()->set_month(12);
            request->mutable_as_of()->set_day(31);
          },
          [&stubs](grpc::ClientContext* context, const v1::GetCountsRequest* request,
                   v1::Counts* response, std::function<void(grpc::Status)> done) {
            StubFor(stubs, reinterpret_cast<uintptr_t>(request) / 64)
                .async()
                ->GetCounts(context, request, response, std::move(done));
          });
    }
    const std::chrono::duration<double> elapsed = Clock::now() - started;
    any_failed |= samples.failed > 0;
    Print(level, elapsed.count(), samples);
  }
  return any_failed ? 1 : 0;
}

}  // namespace
}  // namespace htx::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "htx-load --target=HOST:PORT [--method=get|create|counts] [--outstanding=1,16,256] "
      "[--seconds=5] [--parent=provinces/01] [--connections=1]");
  absl::ParseCommandLine(argc, argv);
  return htx::bench::Run();
}
