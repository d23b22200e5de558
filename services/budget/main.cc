// htx-budget: the budget service process.
#include <cstdio>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/server/caller.h"
#include "common/server/flags.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "common/storage/store.h"
#include "services/budget/budget.h"
#include "services/budget/budget_service.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "htx-budget --listen=HOST:PORT --data_dir=DIR --internal_key_file=FILE "
      "[--registry_addr=HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  htx::server::BlockStopSignals();
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    std::fprintf(stderr, "htx-budget: --data_dir is required\n");
    return 2;
  }

  htx::server::SetLogService("htx-budget");
  auto key = htx::auth::InternalKey::FromFile(absl::GetFlag(FLAGS_internal_key_file));
  if (!key.ok()) {
    std::fprintf(stderr, "htx-budget: --internal_key_file: %s\n",
                 std::string(key.status().message()).c_str());
    return 2;
  }
  // Without a registry the service still runs: units are not checked and
  // beneficiaries are not compared with the registry's organisations.
  std::unique_ptr<htx::registry::RegistryClient> registry;
  const std::string registry_addr = absl::GetFlag(FLAGS_registry_addr);
  if (!registry_addr.empty()) {
    registry = std::make_unique<htx::registry::GrpcRegistryClient>(
        htx::server::SignedChannel(registry_addr, *key,
                                   htx::registry::ServicePrincipal("service:htx-budget")),
        absl::Seconds(1));
  }

  htx::budget::BudgetService service{htx::server::CallerCheck(*std::move(key))};
  htx::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  auto server = htx::server::Server::Start(options, {&service}, {"htx.budget.v1.BudgetService"});
  if (!server.ok()) {
    std::fprintf(stderr, "htx-budget: %s\n", server.status().ToString().c_str());
    return 1;
  }

  htx::storage::StoreOptions store_options;
  store_options.path = data_dir;
  store_options.column_families = htx::budget::Budget::ColumnFamilies();
  auto store = htx::storage::Store::Open(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "htx-budget: %s\n", store.status().ToString().c_str());
    return 1;
  }
  htx::budget::Budget budget(store->get(), registry.get());
  service.Attach(&budget);
  (*server)->SetServing(true);
  std::printf("htx-budget listening on %s\n", (*server)->address().c_str());
  std::fflush(stdout);

  int signal = htx::server::WaitForStopSignal();
  std::printf("htx-budget: signal %d, draining\n", signal);
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  store->reset();  // drains queued writes, then closes the database
  std::printf("htx-budget: stopped\n");
  return 0;
}
