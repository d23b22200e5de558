// htx-indicator: the indicator service process.
#include <memory>

#include "absl/flags/flag.h"
#include "common/server/flags.h"
#include "common/server/service_main.h"
#include "services/indicator/indicator.h"
#include "services/indicator/indicator_service.h"
#include "services/registry/registry_client.h"

int main(int argc, char** argv) {
  htx::server::ServiceProcess process;
  process.program = "htx-indicator";
  process.usage =
      "htx-indicator --listen=HOST:PORT --data_dir=DIR --internal_key_file=FILE "
      "[--registry_addr=HOST:PORT]";
  process.service_name = "htx.indicator.v1.IndicatorService";
  process.column_families = htx::indicator::Indicator::ColumnFamilies();
  return htx::server::RunService<htx::indicator::IndicatorService>(
      process, argc, argv,
      [](htx::indicator::IndicatorService& service, htx::storage::Store& store,
         const htx::auth::InternalKey& key) {
        struct Backend {
          // Without a registry the service still runs: derived rows show no
          // registry figure, tables say registry_unavailable, and written values'
          // units are not checked against the registry.
          std::unique_ptr<htx::registry::RegistryClient> registry;
          std::unique_ptr<htx::indicator::Indicator> indicator;
        };
        auto backend = std::make_shared<Backend>();
        const std::string registry_addr = absl::GetFlag(FLAGS_registry_addr);
        if (!registry_addr.empty()) {
          backend->registry = std::make_unique<htx::registry::GrpcRegistryClient>(
              htx::server::SignedChannel(registry_addr, key,
                                         htx::registry::ServicePrincipal("service:htx-indicator")),
              absl::Seconds(1));
        }
        backend->indicator =
            std::make_unique<htx::indicator::Indicator>(&store, backend->registry.get());
        service.Attach(backend->indicator.get());
        return backend;
      });
}
