// htx-indicator: the indicator service process.
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
#include "services/indicator/indicator.h"
#include "services/indicator/indicator_service.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "htx-indicator --listen=HOST:PORT --data_dir=DIR --internal_key_file=FILE "
      "[--registry_addr=HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  htx::server::BlockStopSignals();
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    std::fprintf(stderr, "htx-indicator: --data_dir is required\n");
    return 2;
  }

  htx::server::SetLogService("htx-indicator");
  auto key = htx::auth::InternalKey::FromFile(absl::GetFlag(FLAGS_internal_key_file));
  if (!key.ok()) {
    std::fprintf(stderr, "htx-indicator: --internal_key_file: %s\n",
                 std::string(key.status().message()).c_str());
    return 2;
  }
  // Without a registry the service still runs: derived rows show no registry
  // figure, tables say registry_unavailable, and written values' units are
  // not checked against the registry.
  std::unique_ptr<htx::indicator::RegistryClient> registry;
  const std::string registry_addr = absl::GetFlag(FLAGS_registry_addr);
  if (!registry_addr.empty()) {
    registry = std::make_unique<htx::indicator::GrpcRegistryClient>(
        htx::server::SignedChannel(registry_addr, *key,
                                   htx::indicator::IndicatorServicePrincipal()),
        absl::Seconds(1));
  }

  htx::indicator::IndicatorService service{htx::server::CallerCheck(*std::move(key))};
  htx::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  auto server =
      htx::server::Server::Start(options, {&service}, {"htx.indicator.v1.IndicatorService"});
  if (!server.ok()) {
    std::fprintf(stderr, "htx-indicator: %s\n", server.status().ToString().c_str());
    return 1;
  }

  htx::storage::StoreOptions store_options;
  store_options.path = data_dir;
  store_options.column_families = htx::indicator::Indicator::ColumnFamilies();
  auto store = htx::storage::Store::Open(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "htx-indicator: %s\n", store.status().ToString().c_str());
    return 1;
  }
  htx::indicator::Indicator indicator(store->get(), registry.get());
  service.Attach(&indicator);
  (*server)->SetServing(true);
  std::printf("htx-indicator listening on %s\n", (*server)->address().c_str());
  std::fflush(stdout);

  int signal = htx::server::WaitForStopSignal();
  std::printf("htx-indicator: signal %d, draining\n", signal);
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  store->reset();  // drains queued writes, then closes the database
  std::printf("htx-indicator: stopped\n");
  return 0;
}
