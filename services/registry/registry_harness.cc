#include "services/registry/registry_harness.h"

namespace htx::registry {

v1::Unit MakeUnit(const std::string& name, v1::UnitKind kind, const std::string& display_name) {
  v1::Unit unit;
  unit.set_name(name);
  unit.set_kind(kind);
  unit.set_display_name(display_name);
  return unit;
}

RegistryHarness::RegistryHarness(Options options) {
  store_ = testing::OpenTestStore(dir_.Sub("registry"), Registry::ColumnFamilies(), options.now,
                                  options.sync);
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
