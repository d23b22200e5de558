// The gRPC face of the registry, on the callback API.
#pragma once

#include "common/server/calls.h"
#include "htx/registry/v1/registry.grpc.pb.h"
#include "services/registry/registry.h"

namespace htx::registry {

class RegistryService final : public v1::RegistryService::CallbackService,
                              public server::Attachable<Registry> {
 public:
  using Attachable::Attachable;

  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context,
                                    const v1::GetUnitRequest* request, v1::Unit* response) override;
  grpc::ServerUnaryReactor* ListUnits(grpc::CallbackServerContext* context,
                                      const v1::ListUnitsRequest* request,
                                      v1::ListUnitsResponse* response) override;
  grpc::ServerUnaryReactor* ImportUnits(grpc::CallbackServerContext* context,
                                        const v1::ImportUnitsRequest* request,
                                        v1::ImportUnitsResponse* response) override;
  grpc::ServerUnaryReactor* CreateOrganization(grpc::CallbackServerContext* context,
                                               const v1::CreateOrganizationRequest* request,
                                               v1::Organization* response) override;
  grpc::ServerUnaryReactor* GetOrganization(grpc::CallbackServerContext* context,
                                            const v1::GetOrganizationRequest* request,
                                            v1::Organization* response) override;
  grpc::ServerUnaryReactor* ListOrganizations(grpc::CallbackServerContext* context,
                                              const v1::ListOrganizationsRequest* request,
                                              v1::ListOrganizationsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateOrganization(grpc::CallbackServerContext* context,
                                               const v1::UpdateOrganizationRequest* request,
                                               v1::Organization* response) override;
  grpc::ServerUnaryReactor* AppendEvent(grpc::CallbackServerContext* context,
                                        const v1::AppendEventRequest* request,
                                        v1::LifecycleEvent* response) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;
  grpc::ServerUnaryReactor* SetClassification(grpc::CallbackServerContext* context,
                                              const v1::SetClassificationRequest* request,
                                              v1::Organization* response) override;
  grpc::ServerUnaryReactor* GetCounts(grpc::CallbackServerContext* context,
                                      const v1::GetCountsRequest* request,
                                      v1::Counts* response) override;
  grpc::ServerBidiReactor<v1::ImportRegistryRequest, v1::ImportRegistryResponse>* ImportRegistry(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListChanges(grpc::CallbackServerContext* context,
                                        const type::v1::ListChangesRequest* request,
                                        type::v1::ListChangesResponse* response) override;

 private:
  // Runs `call(registry, caller, done)` once the caller is admitted (see
  // server::HandleUnary).
  template <typename Request, typename Call>
  grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* context, const char* method,
                                   const Request* request, Call call);
  // A plain read, answered inline.
  template <typename Request, typename Response, typename Read>
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const char* method,
                                   const Request* request, Response* response, Read read);
  // A write by a Registry member (request, response, done).
  template <typename Request, typename Response, typename Write>
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context, const char* method,
                                   const Request* request, Response* response, Write write);
  // The caller's principal after the policy over the areas the request names
  // and, for a caller scoped below an organisation's province, the commune
  // that owns it; or the refusal.
  absl::StatusOr<auth::Principal> Admit(const grpc::CallbackServerContext& context,
                                        const char* method,
                                        const google::protobuf::Message& request,
                                        absl::string_view organization,
                                        const Registry& registry) const;
};

}  // namespace htx::registry
