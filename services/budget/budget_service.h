// The gRPC face of the budget service, on the callback API.
#pragma once

#include "common/server/calls.h"
#include "htx/budget/v1/budget.grpc.pb.h"
#include "services/budget/budget.h"

namespace htx::budget {

class BudgetService final : public v1::BudgetService::CallbackService,
                            public server::Attachable<Budget> {
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
  grpc::ServerUnaryReactor* GetLine(grpc::CallbackServerContext* context,
                                    const v1::GetLineRequest* request, v1::Line* response) override;
  grpc::ServerUnaryReactor* ListLines(grpc::CallbackServerContext* context,
                                      const v1::ListLinesRequest* request,
                                      v1::ListLinesResponse* response) override;
  grpc::ServerUnaryReactor* GetNeed(grpc::CallbackServerContext* context,
                                    const v1::GetNeedRequest* request, v1::Need* response) override;
  grpc::ServerUnaryReactor* ListNeeds(grpc::CallbackServerContext* context,
                                      const v1::ListNeedsRequest* request,
                                      v1::ListNeedsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateNeed(grpc::CallbackServerContext* context,
                                       const v1::UpdateNeedRequest* request,
                                       v1::Need* response) override;
  grpc::ServerUnaryReactor* BatchUpsertNeeds(grpc::CallbackServerContext* context,
                                             const v1::BatchUpsertNeedsRequest* request,
                                             v1::BatchUpsertNeedsResponse* response) override;
  grpc::ServerUnaryReactor* CreateFundingRecord(grpc::CallbackServerContext* context,
                                                const v1::CreateFundingRecordRequest* request,
                                                v1::FundingRecord* response) override;
  grpc::ServerUnaryReactor* ListFundingRecords(grpc::CallbackServerContext* context,
                                               const v1::ListFundingRecordsRequest* request,
                                               v1::ListFundingRecordsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteFundingRecord(grpc::CallbackServerContext* context,
                                                const v1::DeleteFundingRecordRequest* request,
                                                v1::DeleteFundingRecordResponse* response) override;
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
  grpc::ServerBidiReactor<v1::IngestNeedsRequest, v1::IngestNeedsResponse>* IngestNeeds(
      grpc::CallbackServerContext* context) override;

 private:
  // Runs `call(budget, caller, done)` once the caller is admitted; the
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
};

}  // namespace htx::budget
