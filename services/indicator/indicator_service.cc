#include "services/indicator/indicator_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/server/calls.h"
#include "common/status/status.h"

namespace htx::indicator {
namespace {

constexpr char kStarting[] = "the indicator service";

std::string FullMethod(const char* method) {
  return absl::StrCat("/htx.indicator.v1.IndicatorService/", method);
}

}  // namespace

absl::StatusOr<auth::Principal> IndicatorService::Admit(
    const grpc::CallbackServerContext& context, const char* method,
    const google::protobuf::Message& request) const {
  const std::string full_method = FullMethod(method);
  // Value, finding and lock names carry their unit, so the policy's area
  // check is the whole check: there is no stored owner to look up.
  absl::StatusOr<auth::Principal> caller = callers().Authorize(context, full_method, request);
  if (!caller.ok()) server::LogRefusal(callers().Caller(context), full_method, caller.status());
  return caller;
}

template <typename Request, typename Call>
grpc::ServerUnaryReactor* IndicatorService::Handle(grpc::CallbackServerContext* context,
                                                   const char* method, const Request* request,
                                                   Call call) {
  return server::HandleUnary(
      context, backend(), kStarting,
      [&](const Indicator&) { return Admit(*context, method, *request); }, std::move(call));
}

template <typename Request, typename Response, typename Read>
grpc::ServerUnaryReactor* IndicatorService::Answer(grpc::CallbackServerContext* context,
                                                   const char* method, const Request* request,
                                                   Response* response, Read read) {
  return Handle(context, method, request, server::InlineRead(response, std::move(read)));
}

grpc::ServerUnaryReactor* IndicatorService::ImportCatalog(grpc::CallbackServerContext* context,
                                                          const v1::ImportCatalogRequest* request,
                                                          v1::Catalog* response) {
  return Handle(context, "ImportCatalog", request,
                [&](Indicator& i, const auth::Principal&, Done done) {
                  i.ImportCatalog(*request, response, std::move(done));
                });
}

grpc::ServerUnaryReactor* IndicatorService::GetCatalog(grpc::CallbackServerContext* context,
                                                       const v1::GetCatalogRequest* request,
                                                       v1::Catalog* response) {
  return Answer(context, "GetCatalog", request, response,
                [&](Indicator& i) { return i.GetCatalog(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::ListCatalogs(grpc::CallbackServerContext* context,
                                                         const v1::ListCatalogsRequest* request,
                                                         v1::ListCatalogsResponse* response) {
  return Answer(context, "ListCatalogs", request, response,
                [&](Indicator& i) { return i.ListCatalogs(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::GetIndicator(grpc::CallbackServerContext* context,
                                                         const v1::GetIndicatorRequest* request,
                                                         v1::Indicator* response) {
  return Answer(context, "GetIndicator", request, response,
                [&](Indicator& i) { return i.GetIndicator(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::ListIndicators(grpc::CallbackServerContext* context,
                                                           const v1::ListIndicatorsRequest* request,
                                                           v1::ListIndicatorsResponse* response) {
  return Answer(context, "ListIndicators", request, response,
                [&](Indicator& i) { return i.ListIndicators(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::ListRules(grpc::CallbackServerContext* context,
                                                      const v1::ListRulesRequest* request,
                                                      v1::ListRulesResponse* response) {
  return Answer(context, "ListRules", request, response,
                [&](Indicator& i) { return i.ListRules(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::GetValue(grpc::CallbackServerContext* context,
                                                     const v1::GetValueRequest* request,
                                                     v1::IndicatorValue* response) {
  return Answer(context, "GetValue", request, response,
                [&](Indicator& i) { return i.GetValue(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::ListValues(grpc::CallbackServerContext* context,
                                                       const v1::ListValuesRequest* request,
                                                       v1::ListValuesResponse* response) {
  return Answer(context, "ListValues", request, response,
                [&](Indicator& i) { return i.ListValues(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::ListValueHistory(
    grpc::CallbackServerContext* context, const v1::ListValueHistoryRequest* request,
    v1::ListValueHistoryResponse* response) {
  return Answer(context, "ListValueHistory", request, response,
                [&](Indicator& i) { return i.ListValueHistory(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::BatchUpsertValues(
    grpc::CallbackServerContext* context, const v1::BatchUpsertValuesRequest* request,
    v1::BatchUpsertValuesResponse* response) {
  return Handle(context, "BatchUpsertValues", request,
                [&](Indicator& i, const auth::Principal& caller, Done done) {
                  i.BatchUpsertValues(*request, caller.subject(), response, std::move(done));
                });
}

grpc::ServerUnaryReactor* IndicatorService::GetTable(grpc::CallbackServerContext* context,
                                                     const v1::GetTableRequest* request,
                                                     v1::IndicatorTable* response) {
  return Handle(context, "GetTable", request, [&](Indicator& i, const auth::Principal&, Done done) {
    i.GetTable(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* IndicatorService::GetRollup(grpc::CallbackServerContext* context,
                                                      const v1::GetRollupRequest* request,
                                                      v1::Rollup* response) {
  return Answer(context, "GetRollup", request, response,
                [&](Indicator& i) { return i.GetRollup(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::ListFindings(grpc::CallbackServerContext* context,
                                                         const v1::ListFindingsRequest* request,
                                                         v1::ListFindingsResponse* response) {
  return Handle(context, "ListFindings", request,
                [&](Indicator& i, const auth::Principal&, Done done) {
                  i.ListFindings(*request, response, std::move(done));
                });
}

grpc::ServerUnaryReactor* IndicatorService::ExplainFinding(grpc::CallbackServerContext* context,
                                                           const v1::ExplainFindingRequest* request,
                                                           v1::Finding* response) {
  return Handle(context, "ExplainFinding", request,
                [&](Indicator& i, const auth::Principal& caller, Done done) {
                  i.ExplainFinding(*request, caller.subject(), response, std::move(done));
                });
}

grpc::ServerUnaryReactor* IndicatorService::GetLock(grpc::CallbackServerContext* context,
                                                    const type::v1::GetLockRequest* request,
                                                    type::v1::Lock* response) {
  return Answer(context, "GetLock", request, response,
                [&](Indicator& i) { return i.GetLock(*request); });
}

grpc::ServerUnaryReactor* IndicatorService::SetLock(grpc::CallbackServerContext* context,
                                                    const type::v1::SetLockRequest* request,
                                                    type::v1::Lock* response) {
  return Handle(context, "SetLock", request, [&](Indicator& i, const auth::Principal&, Done done) {
    i.SetLock(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* IndicatorService::ListChanges(grpc::CallbackServerContext* context,
                                                        const type::v1::ListChangesRequest* request,
                                                        type::v1::ListChangesResponse* response) {
  return Answer(context, "ListChanges", request, response,
                [&](Indicator& i) { return i.ListChanges(*request); });
}

grpc::ServerBidiReactor<v1::IngestValuesRequest, v1::IngestValuesResponse>*
IndicatorService::IngestValues(grpc::CallbackServerContext* context) {
  return new server::BulkReactor<v1::IngestValuesRequest, v1::IngestValuesResponse>(
      FullMethod("IngestValues"), kStarting, backend(), callers().Caller(*context),
      [](Indicator& indicator, const auth::Principal& caller,
         const v1::IngestValuesRequest& request, v1::IngestValuesResponse* response,
         server::Done done) {
        indicator.IngestBatch(request, caller.subject(), response, std::move(done));
      });
}

}  // namespace htx::indicator
