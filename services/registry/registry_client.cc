#include "services/registry/registry_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/status/status.h"

namespace htx::registry {

auth::Principal ServicePrincipal(absl::string_view subject) {
  auth::Principal principal;
  principal.set_subject(std::string(subject));
  principal.set_role(auth::v1::ROLE_SERVICE);
  principal.set_scope("");
  return principal;
}

GrpcRegistryClient::GrpcRegistryClient(std::shared_ptr<grpc::Channel> channel,
                                       absl::Duration deadline)
    : stub_(v1::RegistryService::NewStub(std::move(channel))), deadline_(deadline) {}

namespace {

// One asynchronous call with a deadline: `start` begins it on the callback
// API, `done` gets the answer or the error. The heap object owns what the call
// points to until its callback.
template <typename Request, typename Response, typename Start>
void CallWithDeadline(Start start, const Request& request, absl::Duration deadline,
                      std::function<void(absl::StatusOr<Response>)> done) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
    std::function<void(absl::StatusOr<Response>)> done;
  };
  auto* call = new Call;
  call->request = request;
  call->done = std::move(done);
  call->context.set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoMilliseconds(deadline));
  start(&call->context, &call->request, &call->response, [call](grpc::Status status) {
    std::unique_ptr<Call> owned(call);
    if (status.ok()) {
      owned->done(std::move(owned->response));
    } else {
      owned->done(FromGrpcStatus(status));
    }
  });
}

}  // namespace

void GrpcRegistryClient::GetCounts(const v1::GetCountsRequest& request,
                                   std::function<void(absl::StatusOr<v1::Counts>)> done) {
  CallWithDeadline<v1::GetCountsRequest, v1::Counts>(
      [this](auto* context, auto* request, auto* response, auto callback) {
        stub_->async()->GetCounts(context, request, response, std::move(callback));
      },
      request, deadline_, std::move(done));
}

void GrpcRegistryClient::GetUnit(const v1::GetUnitRequest& request,
                                 std::function<void(absl::StatusOr<v1::Unit>)> done) {
  CallWithDeadline<v1::GetUnitRequest, v1::Unit>(
      [this](auto* context, auto* request, auto* response, auto callback) {
        stub_->async()->GetUnit(context, request, response, std::move(callback));
      },
      request, deadline_, std::move(done));
}

void UnitChecker::Check(std::vector<std::string> units, std::function<void(Checks)> done) const {
  Checks checks;
  std::vector<std::string> ask;
  {
    absl::MutexLock lock(&mu_);
    for (std::string& unit : units) {
      if (registry_ == nullptr || known_.contains(unit)) {
        checks[unit] = absl::OkStatus();
      } else {
        ask.push_back(std::move(unit));
      }
    }
  }
  if (ask.empty()) return done(std::move(checks));
  struct Pending {
    std::mutex mu;
    size_t remaining = 0;
    Checks checks;
    std::function<void(Checks)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->remaining = ask.size();
  pending->checks = std::move(checks);
  pending->done = std::move(done);
  for (const std::string& unit : ask) {
    v1::GetUnitRequest request;
    request.set_name(unit);
    registry_->GetUnit(request, [this, pending, unit](absl::StatusOr<v1::Unit> found) {
      absl::Status status = found.status();
      if (status.ok()) {
        absl::MutexLock lock(&mu_);
        known_.insert(unit);
      } else if (status.code() != absl::StatusCode::kNotFound) {
        // Callers see REGISTRY_UNAVAILABLE; operators need the cause.
        server::Log("warn", "registry unit check unavailable",
                    {{"unit", unit}, {"error", status.ToString()}});
      }
      {
        std::lock_guard<std::mutex> lock(pending->mu);
        pending->checks[unit] = std::move(status);
        if (--pending->remaining > 0) return;
      }
      pending->done(std::move(pending->checks));
    });
  }
}

absl::Status UnitChecker::Refusal(const absl::Status& check, absl::string_view field,
                                  absl::string_view unit) {
  if (check.code() == absl::StatusCode::kNotFound) {
    return InvalidField(field, absl::StrCat("the registry knows no unit ", unit), "UNKNOWN_UNIT");
  }
  return Error(absl::StatusCode::kUnavailable, "REGISTRY_UNAVAILABLE",
               absl::StrCat(field, ": the unit ", unit,
                            " could not be checked with the registry; nothing was written, "
                            "retry later"),
               {{"field", field}});
}

}  // namespace htx::registry
