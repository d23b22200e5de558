#include "services/budget/budget_harness.h"

namespace htx::budget {

BudgetHarness::BudgetHarness(Options options) {
  store_ =
      testing::OpenTestStore(options.store_dir.empty() ? dir_.Sub("budget") : options.store_dir,
                             Budget::ColumnFamilies(), options.now);
  budget_ = std::make_unique<Budget>(
      store_.get(), options.registry != nullptr ? options.registry : &fake_registry_,
      [now = options.now] { return now; });
  server_ = std::make_unique<testing::InProcessServer>(
      std::vector<grpc::Service*>{&service_},
      std::vector<std::string>{"htx.budget.v1.BudgetService"});
  stub_ = v1::BudgetService::NewStub(server_->channel());
  service_stub_ = v1::BudgetService::NewStub(
      server_->ChannelAs(testing::TestPrincipal(auth::v1::ROLE_SERVICE)));
  service_.Attach(budget_.get());
  server_->server().SetServing(true);
}

// The server goes first (in-flight calls may still use the store), then the
// store drains its writer while the service its mutations call still exists.
BudgetHarness::~BudgetHarness() {
  server_.reset();
  store_.reset();
}

}  // namespace htx::budget
