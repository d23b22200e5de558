// Acknowledged writes survive kill -9: the real htx-registry binary takes
// concurrent writes, is killed with SIGKILL mid-flight, restarts on the same
// directory, and must hold every write it acknowledged.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/str_format.h"
#include "common/server/caller.h"
#include "common/server/health_client.h"
#include "common/testing/process.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "htx/registry/v1/registry.grpc.pb.h"

namespace htx::registry {
namespace {

namespace v1 = ::htx::registry::v1;
using ::htx::testing::ChildProcess;
using ::htx::testing::Context;

std::unique_ptr<ChildProcess> StartRegistry(const testing::TempDir& dir) {
  return std::make_unique<ChildProcess>(
      HTX_REGISTRY_BINARY,
      std::vector<std::string>{"--listen=127.0.0.1:0", "--data_dir=" + dir.Sub("registry"),
                               "--internal_key_file=" + testing::WriteTestInternalKey(dir)});
}

std::unique_ptr<v1::RegistryService::Stub> Connect(const std::string& address) {
  auto channel = server::SignedChannel(address, testing::TestInternalKey(),
                                       testing::TestPrincipal(auth::v1::ROLE_MINISTRY_ADMIN));
  EXPECT_TRUE(server::WaitUntilServing(channel, "", absl::Seconds(30)));
  return v1::RegistryService::NewStub(channel);
}

TEST(RegistryDurabilityTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  auto process = StartRegistry(dir);
  auto stub = Connect(process->address());

  v1::ImportUnitsRequest units;
  auto* province = units.add_units();
  province->set_name("provinces/01");
  province->set_kind(v1::UNIT_KIND_CITY);
  province->set_display_name("Thành phố Hà Nội");
  auto* commune = units.add_units();
  commune->set_name("provinces/01/communes/00001");
  commune->set_kind(v1::UNIT_KIND_WARD);
  commune->set_display_name("Phường mẫu");
  v1::ImportUnitsResponse imported;
  HTX_ASSERT_OK(stub->ImportUnits(Context().get(), units, &imported));

  constexpr int kWriters = 16;
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> count{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100000; ++i) {
        v1::CreateOrganizationRequest request;
        request.set_parent("provinces/01");
        auto* o = request.mutable_organization();
        o->set_registration_code(absl::StrFormat("01%02d%06d", w, i));
        o->set_kind(v1::ORGANIZATION_KIND_HTX);
        o->set_display_name("HTX bền vững");
        o->set_commune("provinces/01/communes/00001");
        o->set_sector(v1::SECTOR_TRADE);
        o->mutable_founding_date()->set_year(2020);
        o->mutable_founding_date()->set_month(1);
        o->mutable_founding_date()->set_day(1);
        v1::Organization created;
        if (!stub->CreateOrganization(Context(5).get(), request, &created).ok()) return;
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(created.name());
        ++count;
      }
    });
  }
  // Kill while writes are in flight, once a fair number are acknowledged.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count < 500 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status = process->Stop(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status));
  for (auto& writer : writers) writer.join();
  ASSERT_GE(acknowledged.size(), 500u);

  process = StartRegistry(dir);
  stub = Connect(process->address());
  int missing = 0;
  for (const std::string& name : acknowledged) {
    v1::GetOrganizationRequest get;
    get.set_name(name);
    v1::Organization organization;
    if (!stub->GetOrganization(Context().get(), get, &organization).ok()) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged writes";

  // The change feed continues after the last durable sequence, without gaps.
  type::v1::ListChangesRequest changes_request;
  type::v1::ListChangesResponse changes;
  HTX_ASSERT_OK(stub->ListChanges(Context().get(), changes_request, &changes));
  EXPECT_GE(changes.last_sequence(), acknowledged.size() + 2);
}

TEST(RegistryDurabilityTest, SigtermDrainsAndExitsZero) {
  testing::TempDir dir;
  auto process = StartRegistry(dir);
  auto stub = Connect(process->address());
  int status = process->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace htx::registry
