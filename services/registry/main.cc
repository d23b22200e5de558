// htx-registry: the registry service process.
#include <memory>

#include "common/server/service_main.h"
#include "services/registry/registry.h"
#include "services/registry/registry_service.h"

int main(int argc, char** argv) {
  htx::server::ServiceProcess process;
  process.program = "htx-registry";
  process.usage = "htx-registry --listen=HOST:PORT --data_dir=DIR --internal_key_file=FILE";
  process.service_name = "htx.registry.v1.RegistryService";
  process.column_families = htx::registry::Registry::ColumnFamilies();
  return htx::server::RunService<htx::registry::RegistryService>(
      process, argc, argv,
      [](htx::registry::RegistryService& service, htx::storage::Store& store,
         const htx::auth::InternalKey&) {
        auto registry = std::make_shared<htx::registry::Registry>(&store);
        service.Attach(registry.get());
        return registry;
      });
}
