#include "services/indicator/indicator_harness.h"

#include "common/status/status.h"

namespace htx::indicator {

IndicatorHarness::IndicatorHarness(Options options) {
  store_ = testing::OpenTestStore(dir_.Sub("indicator"), Indicator::ColumnFamilies(), options.now);
  indicator_ = std::make_unique<Indicator>(
      store_.get(), options.registry != nullptr ? options.registry : &fake_registry_,
      [now = options.now] { return now; });
  server_ = std::make_unique<testing::InProcessServer>(
      std::vector<grpc::Service*>{&service_},
      std::vector<std::string>{"htx.indicator.v1.IndicatorService"});
  stub_ = v1::IndicatorService::NewStub(server_->channel());
  service_stub_ = v1::IndicatorService::NewStub(
      server_->ChannelAs(testing::TestPrincipal(auth::v1::ROLE_SERVICE)));
  if (options.attach) {
    Attach();
  } else {
    server_->server().SetServing(false);
  }
}

// The server goes first (in-flight calls may still use the store), then the
// store drains its writer while the service its mutations call still exists.
IndicatorHarness::~IndicatorHarness() {
  server_.reset();
  store_.reset();
}

void IndicatorHarness::Attach() {
  service_.Attach(indicator_.get());
  server_->server().SetServing(true);
}

}  // namespace htx::indicator
