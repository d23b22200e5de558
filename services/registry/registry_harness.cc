#include "services/registry/registry_harness.h"

#include <cstdlib>

namespace htx::registry {

absl::Time TestNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 12, 0, 0),
                         absl::FixedTimeZone(7 * 60 * 60));
}

v1::Unit MakeUnit(const std::string& name, v1::UnitKind kind, const std::string& display_name) {
  v1::Unit unit;
  unit.set_name(name);
  unit.set_kind(kind);
  unit.set_display_name(display_name);
  return unit;
}

RegistryHarness::RegistryHarness(Options options) {
  storage::StoreOptions store_options;
  store_options.path = dir_.Sub("registry");
  store_options.column_families = Registry::ColumnFamilies();
  store_options.sync = options.sync;
  store_options.clock = [now = options.now] { return now; };
  auto store = storage::Store::Open(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open test store: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  store_ = *std::move(store);
  registry_ = std::make_unique<Registry>(store_.get(), [now = options.now] { return now; });
  server_ = std::make_unique<testing::InProcessServer>(
      std::vector<grpc::Service*>{&service_},
      std::vector<std::string>{"htx.registry.v1.RegistryService"});
  stub_ = v1::RegistryService::NewStub(server_->channel());
  if (options.attach) {
    Attach();
  } else {
    server_->server().SetServing(false);
  }
}

RegistryHarness::~RegistryHarness() { server_.reset(); }

void RegistryHarness::Attach() {
  service_.Attach(registry_.get());
  server_->server().SetServing(true);
}

}  // namespace htx::registry
