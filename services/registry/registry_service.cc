#include "services/registry/registry_service.h"

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/status/status.h"

namespace htx::registry {
namespace {

absl::Status NotReady() {
  return Error(absl::StatusCode::kUnavailable, "NOT_READY",
               "the registry is starting; retry shortly");
}

// The organisation a request is about, whose owning commune only the
// registry knows; "" for requests about no single organisation.
absl::string_view OrganizationNamed(const google::protobuf::Message&) { return {}; }
absl::string_view OrganizationNamed(const v1::GetOrganizationRequest& r) { return r.name(); }
absl::string_view OrganizationNamed(const v1::UpdateOrganizationRequest& r) {
  return r.organization().name();
}
absl::string_view OrganizationNamed(const v1::AppendEventRequest& r) { return r.parent(); }
absl::string_view OrganizationNamed(const v1::ListEventsRequest& r) { return r.parent(); }
absl::string_view OrganizationNamed(const v1::SetClassificationRequest& r) { return r.name(); }

std::string FullMethod(const char* method) {
  return absl::StrCat("/htx.registry.v1.RegistryService/", method);
}

}  // namespace

absl::Status RegistryService::Admit(const grpc::CallbackServerContext& context, const char* method,
                                    const google::protobuf::Message& request,
                                    absl::string_view organization,
                                    const Registry& registry) const {
  const std::string full_method = FullMethod(method);
  absl::StatusOr<auth::Principal> caller = callers_.Authorize(context, full_method, request);
  absl::Status allowed = caller.status();
  if (allowed.ok() && !organization.empty()) {
    absl::optional<auth::Area> area = auth::AreaOf(organization);
    if (area && area->owner_below && !auth::Within(area->unit, caller->scope())) {
      absl::StatusOr<std::string> commune = registry.OrganizationCommune(organization);
      // A missing organisation is the method's own NOT_FOUND to report.
      if (commune.ok()) allowed = auth::AuthorizeOwner(*caller, *commune);
    }
  }
  if (!allowed.ok()) {
    server::Log("warn", "call refused",
                {{"request_id", caller.ok() ? caller->request_id() : std::string()},
                 {"subject", caller.ok() ? caller->subject() : std::string()},
                 {"method", full_method},
                 {"error", allowed.ToString()}});
  }
  return allowed;
}

// A read runs inline on the callback thread: it touches only memory and the
// block cache, never waits on fsync.
template <typename Request, typename Response, typename Read>
grpc::ServerUnaryReactor* RegistryService::Answer(grpc::CallbackServerContext* context,
                                                  const char* method, const Request* request,
                                                  Response* response, Read read) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Registry* registry = registry_.load();
  if (registry == nullptr) {
    reactor->Finish(ToGrpcStatus(NotReady()));
    return reactor;
  }
  if (absl::Status s = Admit(*context, method, *request, OrganizationNamed(*request), *registry);
      !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  absl::StatusOr<Response> result = read(*registry);
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

// A write is queued to the store's writer; the reactor finishes once durable.
template <typename Request, typename Response, typename Write>
grpc::ServerUnaryReactor* RegistryService::Commit(grpc::CallbackServerContext* context,
                                                  const char* method, const Request* request,
                                                  Response* response, Write write) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Registry* registry = registry_.load();
  if (registry == nullptr) {
    reactor->Finish(ToGrpcStatus(NotReady()));
    return reactor;
  }
  if (absl::Status s = Admit(*context, method, *request, OrganizationNamed(*request), *registry);
      !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  (registry->*write)(*request, response,
                     [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::GetUnit(grpc::CallbackServerContext* context,
                                                   const v1::GetUnitRequest* request,
                                                   v1::Unit* response) {
  return Answer(context, "GetUnit", request, response,
                [&](Registry& r) { return r.GetUnit(*request); });
}

grpc::ServerUnaryReactor* RegistryService::ListUnits(grpc::CallbackServerContext* context,
                                                     const v1::ListUnitsRequest* request,
                                                     v1::ListUnitsResponse* response) {
  return Answer(context, "ListUnits", request, response,
                [&](Registry& r) { return r.ListUnits(*request); });
}

grpc::ServerUnaryReactor* RegistryService::ImportUnits(grpc::CallbackServerContext* context,
                                                       const v1::ImportUnitsRequest* request,
                                                       v1::ImportUnitsResponse* response) {
  return Commit(context, "ImportUnits", request, response, &Registry::ImportUnits);
}

grpc::ServerUnaryReactor* RegistryService::CreateOrganization(
    grpc::CallbackServerContext* context, const v1::CreateOrganizationRequest* request,
    v1::Organization* response) {
  return Commit(context, "CreateOrganization", request, response, &Registry::CreateOrganization);
}

grpc::ServerUnaryReactor* RegistryService::GetOrganization(
    grpc::CallbackServerContext* context, const v1::GetOrganizationRequest* request,
    v1::Organization* response) {
  return Answer(context, "GetOrganization", request, response,
                [&](Registry& r) { return r.GetOrganization(*request); });
}

grpc::ServerUnaryReactor* RegistryService::ListOrganizations(
    grpc::CallbackServerContext* context, const v1::ListOrganizationsRequest* request,
    v1::ListOrganizationsResponse* response) {
  return Answer(context, "ListOrganizations", request, response,
                [&](Registry& r) { return r.ListOrganizations(*request); });
}

grpc::ServerUnaryReactor* RegistryService::UpdateOrganization(
    grpc::CallbackServerContext* context, const v1::UpdateOrganizationRequest* request,
    v1::Organization* response) {
  return Commit(context, "UpdateOrganization", request, response, &Registry::UpdateOrganization);
}

grpc::ServerUnaryReactor* RegistryService::AppendEvent(grpc::CallbackServerContext* context,
                                                       const v1::AppendEventRequest* request,
                                                       v1::LifecycleEvent* response) {
  return Commit(context, "AppendEvent", request, response, &Registry::AppendEvent);
}

grpc::ServerUnaryReactor* RegistryService::ListEvents(grpc::CallbackServerContext* context,
                                                      const v1::ListEventsRequest* request,
                                                      v1::ListEventsResponse* response) {
  return Answer(context, "ListEvents", request, response,
                [&](Registry& r) { return r.ListEvents(*request); });
}

grpc::ServerUnaryReactor* RegistryService::SetClassification(
    grpc::CallbackServerContext* context, const v1::SetClassificationRequest* request,
    v1::Organization* response) {
  return Commit(context, "SetClassification", request, response, &Registry::SetClassification);
}

grpc::ServerUnaryReactor* RegistryService::GetCounts(grpc::CallbackServerContext* context,
                                                     const v1::GetCountsRequest* request,
                                                     v1::Counts* response) {
  return Answer(context, "GetCounts", request, response,
                [&](Registry& r) { return r.GetCounts(*request); });
}

grpc::ServerUnaryReactor* RegistryService::ListChanges(grpc::CallbackServerContext* context,
                                                       const type::v1::ListChangesRequest* request,
                                                       type::v1::ListChangesResponse* response) {
  return Answer(context, "ListChanges", request, response,
                [&](Registry& r) { return r.ListChanges(*request); });
}

namespace {

// Reads a batch, commits it, answers it, reads the next: one batch in flight
// per stream, which is the stream's back-pressure.
class ImportReactor final
    : public grpc::ServerBidiReactor<v1::ImportRegistryRequest, v1::ImportRegistryResponse> {
 public:
  ImportReactor(Registry* registry, absl::StatusOr<auth::Principal> caller)
      : registry_(registry), caller_(std::move(caller)) {
    if (registry_ == nullptr) {
      Finish(ToGrpcStatus(NotReady()));
      return;
    }
    if (!caller_.ok()) {
      Finish(ToGrpcStatus(caller_.status()));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side: every batch has been answered
      Finish(grpc::Status::OK);
      return;
    }
    // A batch naming a unit outside the caller's scope ends the stream; the
    // batches before it stay applied.
    if (absl::Status s =
            auth::Authorize(*caller_, FullMethod("ImportRegistry"), auth::AreasOf(request_));
        !s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    registry_->ImportBatch(request_, &response_, [this](absl::Status status) {
      if (!status.ok()) {
        Finish(ToGrpcStatus(status));
        return;
      }
      StartWrite(&response_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(ToGrpcStatus(Error(absl::StatusCode::kCancelled, "STREAM_BROKEN",
                                "the client stopped reading answers")));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  Registry* registry_;
  absl::StatusOr<auth::Principal> caller_;
  v1::ImportRegistryRequest request_;
  v1::ImportRegistryResponse response_;
};

}  // namespace

grpc::ServerBidiReactor<v1::ImportRegistryRequest, v1::ImportRegistryResponse>*
RegistryService::ImportRegistry(grpc::CallbackServerContext* context) {
  return new ImportReactor(registry_.load(), callers_.Caller(*context));
}

}  // namespace htx::registry
