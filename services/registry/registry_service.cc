#include "services/registry/registry_service.h"

#include "absl/strings/str_cat.h"
#include "common/server/calls.h"

namespace htx::registry {
namespace {

constexpr char kStarting[] = "the registry";

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

absl::StatusOr<auth::Principal> RegistryService::Admit(const grpc::CallbackServerContext& context,
                                                       const char* method,
                                                       const google::protobuf::Message& request,
                                                       absl::string_view organization,
                                                       const Registry& registry) const {
  const std::string full_method = FullMethod(method);
  absl::StatusOr<auth::Principal> caller = callers().Authorize(context, full_method, request);
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
    server::LogRefusal(caller, full_method, allowed);
    return allowed;
  }
  return caller;
}

template <typename Request, typename Call>
grpc::ServerUnaryReactor* RegistryService::Handle(grpc::CallbackServerContext* context,
                                                  const char* method, const Request* request,
                                                  Call call) {
  return server::HandleUnary(
      context, backend(), kStarting,
      [&](const Registry& registry) {
        return Admit(*context, method, *request, OrganizationNamed(*request), registry);
      },
      std::move(call));
}

template <typename Request, typename Response, typename Read>
grpc::ServerUnaryReactor* RegistryService::Answer(grpc::CallbackServerContext* context,
                                                  const char* method, const Request* request,
                                                  Response* response, Read read) {
  return Handle(context, method, request, server::InlineRead(response, std::move(read)));
}

// A write is queued to the store's writer; the reactor finishes once durable.
template <typename Request, typename Response, typename Write>
grpc::ServerUnaryReactor* RegistryService::Commit(grpc::CallbackServerContext* context,
                                                  const char* method, const Request* request,
                                                  Response* response, Write write) {
  return Handle(
      context, method, request,
      [request, response, write](Registry& registry, const auth::Principal&, server::Done done) {
        (registry.*write)(*request, response, std::move(done));
      });
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

grpc::ServerBidiReactor<v1::ImportRegistryRequest, v1::ImportRegistryResponse>*
RegistryService::ImportRegistry(grpc::CallbackServerContext* context) {
  return new server::BulkReactor<v1::ImportRegistryRequest, v1::ImportRegistryResponse>(
      FullMethod("ImportRegistry"), kStarting, backend(), callers().Caller(*context),
      [](Registry& registry, const auth::Principal&, const v1::ImportRegistryRequest& request,
         v1::ImportRegistryResponse* response,
         server::Done done) { registry.ImportBatch(request, response, std::move(done)); });
}

}  // namespace htx::registry
