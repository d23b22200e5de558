// htx-budget: the budget service process.
#include <memory>

#include "absl/flags/flag.h"
#include "common/server/flags.h"
#include "common/server/service_main.h"
#include "services/budget/budget.h"
#include "services/budget/budget_service.h"
#include "services/registry/registry_client.h"

int main(int argc, char** argv) {
  htx::server::ServiceProcess process;
  process.program = "htx-budget";
  process.usage =
      "htx-budget --listen=HOST:PORT --data_dir=DIR --internal_key_file=FILE "
      "[--registry_addr=HOST:PORT]";
  process.service_name = "htx.budget.v1.BudgetService";
  process.column_families = htx::budget::Budget::ColumnFamilies();
  return htx::server::RunService<htx::budget::BudgetService>(
      process, argc, argv,
      [](htx::budget::BudgetService& service, htx::storage::Store& store,
         const htx::auth::InternalKey& key) {
        struct Backend {
          // Without a registry the service still runs: units are not checked and
          // beneficiaries are not compared with the registry's organisations.
          std::unique_ptr<htx::registry::RegistryClient> registry;
          std::unique_ptr<htx::budget::Budget> budget;
        };
        auto backend = std::make_shared<Backend>();
        const std::string registry_addr = absl::GetFlag(FLAGS_registry_addr);
        if (!registry_addr.empty()) {
          backend->registry =
              std::make_unique<htx::registry::GrpcRegistryClient>(htx::server::SignedChannel(
                  registry_addr, key, htx::registry::ServicePrincipal("service:htx-budget")));
        }
        backend->budget = std::make_unique<htx::budget::Budget>(&store, backend->registry.get());
        service.Attach(backend->budget.get());
        return backend;
      });
}
