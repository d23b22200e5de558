#include "services/indicator/indicator_harness.h"

#include "common/status/status.h"

namespace htx::indicator {

void FakeRegistry::SetCounts(const std::string& unit, registry::v1::Counts counts) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_[unit] = std::move(counts);
}

void FakeRegistry::SetAvailable(bool available) {
  std::lock_guard<std::mutex> lock(mu_);
  available_ = available;
}

int FakeRegistry::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeRegistry::SetKnownUnits(std::set<std::string> units) {
  std::lock_guard<std::mutex> lock(mu_);
  known_units_ = std::move(units);
}

void FakeRegistry::SetUnitLookupsFail(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  unit_lookups_fail_ = fail;
}

int FakeRegistry::unit_calls(const std::string& unit) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = unit_calls_.find(unit);
  return it == unit_calls_.end() ? 0 : it->second;
}

void FakeRegistry::GetUnit(const registry::v1::GetUnitRequest& request,
                           std::function<void(absl::StatusOr<registry::v1::Unit>)> done) {
  absl::StatusOr<registry::v1::Unit> answer =
      Error(absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED", "the registry is down");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++unit_calls_[request.name()];
    if (!unit_lookups_fail_) {
      if (known_units_ && known_units_->count(request.name()) == 0) {
        answer = NotFound(request.name());
      } else {
        registry::v1::Unit unit;
        unit.set_name(request.name());
        answer = std::move(unit);
      }
    }
  }
  done(std::move(answer));
}

void FakeRegistry::GetCounts(const registry::v1::GetCountsRequest& request,
                             std::function<void(absl::StatusOr<registry::v1::Counts>)> done) {
  absl::StatusOr<registry::v1::Counts> answer =
      Error(absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED", "the registry is down");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    auto it = counts_.find(request.unit());
    if (available_ && it != counts_.end()) {
      answer = it->second;
      answer->set_unit(request.unit());
      *answer->mutable_as_of() = request.as_of();
    }
  }
  done(std::move(answer));
}

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
