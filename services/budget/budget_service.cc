#include "services/budget/budget_service.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/server/calls.h"
#include "common/server/log.h"
#include "common/status/status.h"

namespace htx::budget {
namespace {

constexpr char kStarting[] = "the budget service";

std::string FullMethod(const char* method) {
  return absl::StrCat("/htx.budget.v1.BudgetService/", method);
}

}  // namespace

template <typename Request, typename Call>
grpc::ServerUnaryReactor* BudgetService::Handle(grpc::CallbackServerContext* context,
                                                const char* method, const Request* request,
                                                Call call) {
  return server::HandleUnary(
      context, backend(), kStarting,
      [&](const Budget&) -> absl::StatusOr<auth::Principal> {
        // Need, record, finding and lock names carry their unit, so the
        // policy's area check is the whole check: there is no stored owner.
        const std::string full_method = FullMethod(method);
        absl::StatusOr<auth::Principal> caller =
            callers().Authorize(*context, full_method, *request);
        if (!caller.ok()) {
          server::LogRefusal(callers().Caller(*context), full_method, caller.status());
        }
        return caller;
      },
      std::move(call));
}

template <typename Request, typename Response, typename Read>
grpc::ServerUnaryReactor* BudgetService::Answer(grpc::CallbackServerContext* context,
                                                const char* method, const Request* request,
                                                Response* response, Read read) {
  return Handle(context, method, request, server::InlineRead(response, std::move(read)));
}

grpc::ServerUnaryReactor* BudgetService::ImportCatalog(grpc::CallbackServerContext* context,
                                                       const v1::ImportCatalogRequest* request,
                                                       v1::Catalog* response) {
  return Handle(context, "ImportCatalog", request,
                [&](Budget& b, const auth::Principal&, Done done) {
                  b.ImportCatalog(*request, response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::GetCatalog(grpc::CallbackServerContext* context,
                                                    const v1::GetCatalogRequest* request,
                                                    v1::Catalog* response) {
  return Answer(context, "GetCatalog", request, response,
                [&](Budget& b) { return b.GetCatalog(*request); });
}

grpc::ServerUnaryReactor* BudgetService::ListCatalogs(grpc::CallbackServerContext* context,
                                                      const v1::ListCatalogsRequest* request,
                                                      v1::ListCatalogsResponse* response) {
  return Answer(context, "ListCatalogs", request, response,
                [&](Budget& b) { return b.ListCatalogs(*request); });
}

grpc::ServerUnaryReactor* BudgetService::GetLine(grpc::CallbackServerContext* context,
                                                 const v1::GetLineRequest* request,
                                                 v1::Line* response) {
  return Answer(context, "GetLine", request, response,
                [&](Budget& b) { return b.GetLine(*request); });
}

grpc::ServerUnaryReactor* BudgetService::ListLines(grpc::CallbackServerContext* context,
                                                   const v1::ListLinesRequest* request,
                                                   v1::ListLinesResponse* response) {
  return Answer(context, "ListLines", request, response,
                [&](Budget& b) { return b.ListLines(*request); });
}

grpc::ServerUnaryReactor* BudgetService::GetNeed(grpc::CallbackServerContext* context,
                                                 const v1::GetNeedRequest* request,
                                                 v1::Need* response) {
  return Answer(context, "GetNeed", request, response,
                [&](Budget& b) { return b.GetNeed(*request); });
}

grpc::ServerUnaryReactor* BudgetService::ListNeeds(grpc::CallbackServerContext* context,
                                                   const v1::ListNeedsRequest* request,
                                                   v1::ListNeedsResponse* response) {
  return Answer(context, "ListNeeds", request, response,
                [&](Budget& b) { return b.ListNeeds(*request); });
}

grpc::ServerUnaryReactor* BudgetService::UpdateNeed(grpc::CallbackServerContext* context,
                                                    const v1::UpdateNeedRequest* request,
                                                    v1::Need* response) {
  return Handle(context, "UpdateNeed", request,
                [&](Budget& b, const auth::Principal& caller, Done done) {
                  b.UpdateNeed(*request, caller.subject(), response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::BatchUpsertNeeds(
    grpc::CallbackServerContext* context, const v1::BatchUpsertNeedsRequest* request,
    v1::BatchUpsertNeedsResponse* response) {
  return Handle(context, "BatchUpsertNeeds", request,
                [&](Budget& b, const auth::Principal& caller, Done done) {
                  b.BatchUpsertNeeds(*request, caller.subject(), response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::CreateFundingRecord(
    grpc::CallbackServerContext* context, const v1::CreateFundingRecordRequest* request,
    v1::FundingRecord* response) {
  return Handle(context, "CreateFundingRecord", request,
                [&](Budget& b, const auth::Principal& caller, Done done) {
                  b.CreateFundingRecord(*request, caller.subject(), response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::ListFundingRecords(
    grpc::CallbackServerContext* context, const v1::ListFundingRecordsRequest* request,
    v1::ListFundingRecordsResponse* response) {
  return Answer(context, "ListFundingRecords", request, response,
                [&](Budget& b) { return b.ListFundingRecords(*request); });
}

grpc::ServerUnaryReactor* BudgetService::DeleteFundingRecord(
    grpc::CallbackServerContext* context, const v1::DeleteFundingRecordRequest* request,
    v1::DeleteFundingRecordResponse* response) {
  return Handle(context, "DeleteFundingRecord", request,
                [&](Budget& b, const auth::Principal&, Done done) {
                  b.DeleteFundingRecord(*request, response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::GetRollup(grpc::CallbackServerContext* context,
                                                   const v1::GetRollupRequest* request,
                                                   v1::Rollup* response) {
  return Answer(context, "GetRollup", request, response,
                [&](Budget& b) { return b.GetRollup(*request); });
}

grpc::ServerUnaryReactor* BudgetService::ListFindings(grpc::CallbackServerContext* context,
                                                      const v1::ListFindingsRequest* request,
                                                      v1::ListFindingsResponse* response) {
  return Handle(context, "ListFindings", request,
                [&](Budget& b, const auth::Principal&, Done done) {
                  b.ListFindings(*request, response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::ExplainFinding(grpc::CallbackServerContext* context,
                                                        const v1::ExplainFindingRequest* request,
                                                        v1::Finding* response) {
  return Handle(context, "ExplainFinding", request,
                [&](Budget& b, const auth::Principal& caller, Done done) {
                  b.ExplainFinding(*request, caller.subject(), response, std::move(done));
                });
}

grpc::ServerUnaryReactor* BudgetService::GetLock(grpc::CallbackServerContext* context,
                                                 const type::v1::GetLockRequest* request,
                                                 type::v1::Lock* response) {
  return Answer(context, "GetLock", request, response,
                [&](Budget& b) { return b.GetLock(*request); });
}

grpc::ServerUnaryReactor* BudgetService::SetLock(grpc::CallbackServerContext* context,
                                                 const type::v1::SetLockRequest* request,
                                                 type::v1::Lock* response) {
  return Handle(context, "SetLock", request, [&](Budget& b, const auth::Principal&, Done done) {
    b.SetLock(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* BudgetService::ListChanges(grpc::CallbackServerContext* context,
                                                     const type::v1::ListChangesRequest* request,
                                                     type::v1::ListChangesResponse* response) {
  return Answer(context, "ListChanges", request, response,
                [&](Budget& b) { return b.ListChanges(*request); });
}

grpc::ServerBidiReactor<v1::IngestNeedsRequest, v1::IngestNeedsResponse>*
BudgetService::IngestNeeds(grpc::CallbackServerContext* context) {
  return new server::BulkReactor<v1::IngestNeedsRequest, v1::IngestNeedsResponse>(
      FullMethod("IngestNeeds"), kStarting, backend(), callers().Caller(*context),
      [](Budget& budget, const auth::Principal& caller, const v1::IngestNeedsRequest& request,
         v1::IngestNeedsResponse* response, server::Done done) {
        budget.IngestBatch(request, caller.subject(), response, std::move(done));
      });
}

}  // namespace htx::budget
