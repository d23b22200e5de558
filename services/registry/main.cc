// htx-registry: the registry service process.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/server/caller.h"
#include "common/server/flags.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "common/storage/store.h"
#include "services/registry/registry.h"
#include "services/registry/registry_service.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "htx-registry --listen=HOST:PORT --data_dir=DIR --internal_key_file=FILE");
  absl::ParseCommandLine(argc, argv);
  htx::server::BlockStopSignals();
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    std::fprintf(stderr, "htx-registry: --data_dir is required\n");
    return 2;
  }

  htx::server::SetLogService("htx-registry");
  auto key = htx::auth::InternalKey::FromFile(absl::GetFlag(FLAGS_internal_key_file));
  if (!key.ok()) {
    std::fprintf(stderr, "htx-registry: --internal_key_file: %s\n",
                 std::string(key.status().message()).c_str());
    return 2;
  }
  htx::registry::RegistryService service{htx::server::CallerCheck(*std::move(key))};
  htx::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  auto server =
      htx::server::Server::Start(options, {&service}, {"htx.registry.v1.RegistryService"});
  if (!server.ok()) {
    std::fprintf(stderr, "htx-registry: %s\n", server.status().ToString().c_str());
    return 1;
  }

  htx::storage::StoreOptions store_options;
  store_options.path = data_dir;
  store_options.column_families = htx::registry::Registry::ColumnFamilies();
  auto store = htx::storage::Store::Open(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "htx-registry: %s\n", store.status().ToString().c_str());
    return 1;
  }
  htx::registry::Registry registry(store->get());
  service.Attach(&registry);
  (*server)->SetServing(true);
  std::printf("htx-registry listening on %s\n", (*server)->address().c_str());
  std::fflush(stdout);

  int signal = htx::server::WaitForStopSignal();
  std::printf("htx-registry: signal %d, draining\n", signal);
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  store->reset();  // drains queued writes, then closes the database
  std::printf("htx-registry: stopped\n");
  return 0;
}
