// The gRPC face of the indicator service, on the callback API.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/server/calls.h"
#include "htx/indicator/v1/indicator.grpc.pb.h"
#include "services/indicator/indicator.h"

namespace htx::indicator {

class IndicatorService final : public v1::IndicatorService::CallbackService,
                               public server::Attachable<Indicator> {
 public:
  using Attachable::Attachable;

  grpc::ServerUnaryReactor* ImportCatalog(grpc::CallbackServerContext* context,
                                          const v1::ImportCatalogRequest* request,
                                          v1::Catalog* response) override;
  grpc::ServerUnaryReactor* GetCatalog(grpc::CallbackServerContext* context,
                                       const v1::GetCatalogRequest* request,
                                       v1::Catalog* response) override;
  grpc::ServerUnaryReactor* ListCatalogs(grpc::CallbackServerContext* context,
                                         const v1::ListCatalogsRequest* request,
                                         v1::ListCatalogsResponse* response) override;
  grpc::ServerUnaryReactor* GetIndicator(grpc::CallbackServerContext* context,
                                         const v1::GetIndicatorRequest* request,
                                         v1::Indicator* response) override;
  grpc::ServerUnaryReactor* ListIndicators(grpc::CallbackServerContext* context,
                                           const v1::ListIndicatorsRequest* request,
                                           v1::ListIndicatorsResponse* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* context,
                                      const v1::ListRulesRequest* request,
                                      v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* GetValue(grpc::CallbackServerContext* context,
                                     const v1::GetValueRequest* request,
                                     v1::IndicatorValue* response) override;
  grpc::ServerUnaryReactor* ListValues(grpc::CallbackServerContext* context,
                                       const v1::ListValuesRequest* request,
                                       v1::ListValuesResponse* response) override;
  grpc::ServerUnaryReactor* ListValueHistory(grpc::CallbackServerContext* context,
                                             const v1::ListValueHistoryRequest* request,
                                             v1::ListValueHistoryResponse* response) override;
  grpc::ServerUnaryReactor* BatchUpsertValues(grpc::CallbackServerContext* context,
                                              const v1::BatchUpsertValuesRequest* request,
                                              v1::BatchUpsertValuesResponse* response) override;
  grpc::ServerBidiReactor<v1::IngestValuesRequest, v1::IngestValuesResponse>* IngestValues(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetTable(grpc::CallbackServerContext* context,
                                     const v1::GetTableRequest* request,
                                     v1::IndicatorTable* response) override;
  grpc::ServerUnaryReactor* GetRollup(grpc::CallbackServerContext* context,
                                      const v1::GetRollupRequest* request,
                                      v1::Rollup* response) override;
  grpc::ServerUnaryReactor* ListFindings(grpc::CallbackServerContext* context,
                                         const v1::ListFindingsRequest* request,
                                         v1::ListFindingsResponse* response) override;
  grpc::ServerUnaryReactor* ExplainFinding(grpc::CallbackServerContext* context,
                                           const v1::ExplainFindingRequest* request,
                                           v1::Finding* response) override;
  grpc::ServerUnaryReactor* GetLock(grpc::CallbackServerContext* context,
                                    const type::v1::GetLockRequest* request,
                                    type::v1::Lock* response) override;
  grpc::ServerUnaryReactor* SetLock(grpc::CallbackServerContext* context,
                                    const type::v1::SetLockRequest* request,
                                    type::v1::Lock* response) override;
  grpc::ServerUnaryReactor* ListChanges(grpc::CallbackServerContext* context,
                                        const type::v1::ListChangesRequest* request,
                                        type::v1::ListChangesResponse* response) override;

 private:
  // Runs `call(indicator, caller, done)` once the caller is admitted; the
  // reactor finishes when `done` runs (inline for reads, on the store's
  // writer for writes, on a gRPC thread after a registry call).
  template <typename Request, typename Call>
  grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* context, const char* method,
                                   const Request* request, Call call);
  // A plain read, answered inline: it touches only memory and the block
  // cache, never waits on fsync.
  template <typename Request, typename Response, typename Read>
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const char* method,
                                   const Request* request, Response* response, Read read);
  // The caller's principal and the policy over the areas the request names.
  absl::StatusOr<auth::Principal> Admit(const grpc::CallbackServerContext& context,
                                        const char* method,
                                        const google::protobuf::Message& request) const;
};

}  // namespace htx::indicator
