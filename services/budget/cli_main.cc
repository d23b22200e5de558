// htx-budget-cli: a command-line client of htx.budget.v1.BudgetService, for
// importing the budget catalog, loading a unit's Phụ lục III and looking at
// its needs, findings and roll-ups.
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/api/api.h"
#include "common/server/flags.h"
#include "common/server/health_client.h"
#include "common/server/tool.h"
#include "common/status/status.h"
#include "htx/budget/v1/budget.grpc.pb.h"
#include "services/budget/budget_logic.h"
#include "services/budget/catalog_data.h"

ABSL_FLAG(std::string, addr, "",
          "HOST:PORT of the budget service, or of the gateway with --token (required)");
ABSL_FLAG(std::string, token, "",
          "a bearer token (JWT): call through the gateway at --addr as its principal");
ABSL_FLAG(std::string, catalog, "",
          "import-catalog: the catalog CSV (default services/budget/data/catalog-2026.csv); "
          "load-appendix: read the catalog from this file instead of the service");
ABSL_FLAG(std::string, unit, "",
          "the unit, e.g. provinces/01; rollup: \"\" (the nation) or a province");
ABSL_FLAG(int32_t, year, 0, "the plan year, e.g. 2026");
ABSL_FLAG(std::string, table, "", "only this table's lines, e.g. phu-luc-3");
ABSL_FLAG(bool, all, false, "findings: include the passed findings");
ABSL_FLAG(int32_t, timeout_seconds, 30, "wait-ready: how long to wait");

namespace htx::budget {
namespace {

constexpr char kUsage[] =
    R"(a client of the budget service (htx.budget.v1.BudgetService).

usage: htx-budget-cli --addr=HOST:PORT (--internal_key_file=FILE | --token=JWT) COMMAND [ARGUMENTS] [FLAGS]

commands:
  wait-ready [--timeout_seconds=N]
      Waits until the budget service reports SERVING on grpc.health.v1 (default 30 s).
  import-catalog [--catalog=FILE]
      Imports a catalog of support-policy lines (default
      services/budget/data/catalog-2026.csv, relative to the current directory).
      Importing the same file again writes nothing.
  load-appendix --unit=UNIT --year=YYYY [--catalog=FILE] FILE
      Loads a Phụ lục III CSV ("code,parent,label_vi,beneficiaries,
      beneficiary_unit,total,central,local,other,note", million đồng, blank =
      not reported) into the unit's needs of the plan year, in one
      all-or-nothing batch checked against the year's catalog as the service
      holds it (or as --catalog reads it). Loading the same file again writes
      nothing.
  table --unit=UNIT --year=YYYY [--table=ID]
      The unit's needs as a text table in million đồng, parents summed.
  findings --unit=UNIT --year=YYYY [--table=ID] [--all]
      The findings of the checks on a unit-year: failed and not checkable
      ones, or every one with --all.
  rollup --unit=UNIT --year=YYYY [--table=ID]
      A province's needs summed from its communes, or the nation's (--unit=)
      from the provinces', with allocations, disbursements and rates.

exit status: 0 done, 1 a call failed, 2 usage error.
)";

constexpr char kTool[] = "htx-budget-cli";
constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr char kSourceSystem[] = "htx-budget-cli";

using server::kExitError;
using server::kExitUsage;
using server::PadLeft;
using server::PadRight;
using server::Suffix;
using server::Truncate;
using Stub = v1::BudgetService::Stub;

int UsageError(absl::string_view problem) {
  std::fprintf(stderr, "%s: %s\n\n%s", kTool, std::string(problem).c_str(), kUsage);
  return kExitUsage;
}

int Fail(absl::string_view what, const absl::Status& status) {
  return server::PrintFailure(kTool, what, status);
}
int Fail(absl::string_view what, const grpc::Status& status) {
  return Fail(what, FromGrpcStatus(status));
}

std::unique_ptr<grpc::ClientContext> CallContext() { return server::CallContext(kCallTimeout); }

// Million đồng as documents print them; blank stays blank.
std::string Millions(bool present, int64_t dong) {
  return present ? Money::FromDong(dong).FormatMillions() : std::string();
}

// ---- import-catalog, load-appendix ---------------------------------------------

int ImportCatalogCommand(Stub& stub) {
  std::string path = absl::GetFlag(FLAGS_catalog);
  if (path.empty()) path = kCatalog2026Path;
  absl::StatusOr<v1::ImportCatalogRequest> request = LoadCatalogFile(path);
  if (!request.ok()) return Fail(path, request.status());
  // The same file gives the same request and so the same id: importing it
  // again replays the first answer and writes nothing.
  request->set_request_id(
      absl::StrFormat("catalog-%d-%016x", request->catalog().year(), api::DigestMessage(*request)));
  v1::Catalog catalog;
  grpc::Status status = stub.ImportCatalog(CallContext().get(), *request, &catalog);
  if (!status.ok()) return Fail("ImportCatalog", status);
  std::printf("catalog %s: %d lines in %d tables\n", catalog.name().c_str(), catalog.line_count(),
              catalog.tables_size());
  return 0;
}

// The catalog of `year` as the service holds it, in the form of its import.
absl::Status FetchCatalog(Stub& stub, int year, v1::ImportCatalogRequest* out) {
  const std::string name = absl::StrCat("catalogs/", year);
  v1::GetCatalogRequest get;
  get.set_name(name);
  grpc::Status status = stub.GetCatalog(CallContext().get(), get, out->mutable_catalog());
  if (!status.ok()) {
    absl::Status error = FromGrpcStatus(status);
    if (error.code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat(error.message(), " (run import-catalog first?)"));
    }
    return error;
  }
  v1::ListLinesRequest lines;
  lines.set_parent(name);
  lines.set_page_size(api::kMaxPageSize);
  do {
    v1::ListLinesResponse response;
    status = stub.ListLines(CallContext().get(), lines, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    for (v1::Line& line : *response.mutable_lines()) *out->add_lines() = std::move(line);
    lines.set_page_token(response.next_page_token());
  } while (!lines.page_token().empty());
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const CatalogView>> CatalogFor(Stub& stub, int year) {
  v1::ImportCatalogRequest request;
  const std::string path = absl::GetFlag(FLAGS_catalog);
  if (path.empty()) {
    if (absl::Status s = FetchCatalog(stub, year, &request); !s.ok()) return s;
  } else {
    absl::StatusOr<v1::ImportCatalogRequest> loaded = LoadCatalogFile(path);
    if (!loaded.ok()) return loaded.status();
    request = *std::move(loaded);
  }
  return CatalogView::Build(request);
}

int LoadAppendixCommand(Stub& stub, const std::string& file) {
  const std::string unit = absl::GetFlag(FLAGS_unit);
  const int year = absl::GetFlag(FLAGS_year);
  if (unit.empty()) return UsageError("load-appendix needs --unit=UNIT");
  if (year == 0) return UsageError("load-appendix needs --year=YYYY");
  absl::StatusOr<std::shared_ptr<const CatalogView>> catalog = CatalogFor(stub, year);
  if (!catalog.ok()) return Fail(absl::StrCat("catalogs/", year), catalog.status());
  if ((*catalog)->catalog().year() != year) {
    return UsageError(absl::StrCat("--catalog is the catalog of ", (*catalog)->catalog().year()));
  }
  // The whole file is read and checked before anything is written.
  absl::StatusOr<PhuLuc3Import> parsed = ParsePhuLuc3Csv(file, unit, **catalog);
  if (!parsed.ok()) return Fail(file, parsed.status());
  v1::BatchUpsertNeedsRequest request;
  request.set_parent(unit);
  request.set_year(year);
  request.set_source_system(kSourceSystem);
  for (const v1::Need& need : parsed->needs) *request.add_writes()->mutable_need() = need;
  // The same file gives the same batch: loading it again writes nothing.
  request.set_request_id(absl::StrFormat("phu-luc-3-%016x", api::DigestMessage(request)));
  v1::BatchUpsertNeedsResponse response;
  grpc::Status status = stub.BatchUpsertNeeds(CallContext().get(), request, &response);
  if (!status.ok()) return Fail("BatchUpsertNeeds", status);
  std::printf("%s: %d needs of %s %d stored\n", file.c_str(), response.needs_size(), unit.c_str(),
              year);
  return 0;
}

// ---- table, findings, rollup -------------------------------------------------------

constexpr size_t kLabelWidth = 48;
constexpr size_t kAmountWidth = 10;

// Lines by code, for STT and labels.
absl::StatusOr<absl::flat_hash_map<std::string, v1::Line>> LinesByCode(Stub& stub, int year) {
  v1::ImportCatalogRequest catalog;
  if (absl::Status s = FetchCatalog(stub, year, &catalog); !s.ok()) return s;
  absl::flat_hash_map<std::string, v1::Line> lines;
  for (const v1::Line& line : catalog.lines()) lines[line.code()] = line;
  return lines;
}

int Depth(const absl::flat_hash_map<std::string, v1::Line>& lines, const std::string& code) {
  int depth = 0;
  for (auto it = lines.find(code); it != lines.end() && !it->second.parent().empty();
       it = lines.find(it->second.parent())) {
    ++depth;
  }
  return depth;
}

std::string LineLabel(const absl::flat_hash_map<std::string, v1::Line>& lines,
                      const std::string& code) {
  auto it = lines.find(code);
  const std::string label = it == lines.end() ? code : it->second.label();
  const size_t indent = 2 * static_cast<size_t>(Depth(lines, code));
  return PadRight(absl::StrCat(std::string(indent, ' '), Truncate(label, kLabelWidth - indent)),
                  kLabelWidth);
}

std::string Amount(bool present, int64_t dong) {
  return PadLeft(Millions(present, dong), kAmountWidth);
}

int TableCommand(Stub& stub) {
  v1::ListNeedsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_unit));
  request.set_year(absl::GetFlag(FLAGS_year));
  request.set_table(absl::GetFlag(FLAGS_table));
  if (request.parent().empty()) return UsageError("table needs --unit=UNIT");
  if (request.year() == 0) return UsageError("table needs --year=YYYY");
  absl::StatusOr<absl::flat_hash_map<std::string, v1::Line>> lines =
      LinesByCode(stub, request.year());
  if (!lines.ok()) return Fail(absl::StrCat("catalogs/", request.year()), lines.status());
  std::printf("%s  %s  %8s  %s  %s  %s  %s  %s\n", PadRight("STT", 6).c_str(),
              PadRight("Nội dung", kLabelWidth).c_str(), "Số ĐT",
              PadLeft("Tổng", kAmountWidth).c_str(), PadLeft("NS TW", kAmountWidth).c_str(),
              PadLeft("NS ĐP", kAmountWidth).c_str(), PadLeft("Khác", kAmountWidth).c_str(),
              PadLeft("Chưa rõ", kAmountWidth).c_str());
  do {
    v1::ListNeedsResponse response;
    grpc::Status status = stub.ListNeeds(CallContext().get(), request, &response);
    if (!status.ok()) return Fail("ListNeeds", status);
    for (const v1::Need& need : response.needs()) {
      auto line = lines->find(need.line());
      const v1::SourceAmounts& p = need.planned();
      std::printf(
          "%s  %s  %8s  %s  %s  %s  %s  %s\n",
          PadRight(line == lines->end() ? need.line() : line->second.printed_number(), 6).c_str(),
          LineLabel(*lines, need.line()).c_str(),
          need.has_beneficiaries() ? absl::StrCat(need.beneficiaries()).c_str() : "",
          Amount(p.has_total_dong(), p.total_dong()).c_str(),
          Amount(p.has_central_dong(), p.central_dong()).c_str(),
          Amount(p.has_local_dong(), p.local_dong()).c_str(),
          Amount(p.has_other_dong(), p.other_dong()).c_str(),
          Amount(p.has_unspecified_dong(), p.unspecified_dong()).c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::printf("(triệu đồng)\n");
  return 0;
}

int FindingsCommand(Stub& stub) {
  v1::ListFindingsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_unit));
  request.set_year(absl::GetFlag(FLAGS_year));
  request.set_table(absl::GetFlag(FLAGS_table));
  request.set_include_passed(absl::GetFlag(FLAGS_all));
  if (request.parent().empty()) return UsageError("findings needs --unit=UNIT");
  if (request.year() == 0) return UsageError("findings needs --year=YYYY");
  int count = 0;
  v1::FindingSummary summary;
  do {
    v1::ListFindingsResponse response;
    grpc::Status status = stub.ListFindings(CallContext().get(), request, &response);
    if (!status.ok()) return Fail("ListFindings", status);
    for (const v1::Finding& f : response.findings()) {
      std::string line =
          absl::StrFormat("%-13s %-7s %-6s %-22s %s",
                          Suffix(v1::FindingOutcome_Name(f.outcome()), "FINDING_OUTCOME_"),
                          Suffix(v1::Severity_Name(f.severity()), "SEVERITY_"), f.line(),
                          Suffix(v1::BudgetCheck_Name(f.check()), "BUDGET_CHECK_"), f.message());
      if (f.has_explanation())
        absl::StrAppend(&line, " (giải trình: ", f.explanation().text(), ")");
      std::printf("%s\n", line.c_str());
      ++count;
    }
    summary = response.summary();
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::printf(
      "%d findings listed; %s %d: %d errors, %d warnings (%d unexplained), %d not checkable; %d "
      "blocking submission\n",
      count, request.parent().c_str(), request.year(), summary.errors(), summary.warnings(),
      summary.unexplained_warnings(), summary.not_checkable(), summary.blocking());
  return 0;
}

int RollupCommand(Stub& stub) {
  v1::GetRollupRequest request;
  request.set_unit(absl::GetFlag(FLAGS_unit));
  request.set_year(absl::GetFlag(FLAGS_year));
  request.set_table(absl::GetFlag(FLAGS_table));
  if (request.year() == 0) return UsageError("rollup needs --year=YYYY");
  absl::StatusOr<absl::flat_hash_map<std::string, v1::Line>> lines =
      LinesByCode(stub, request.year());
  if (!lines.ok()) return Fail(absl::StrCat("catalogs/", request.year()), lines.status());
  v1::Rollup rollup;
  grpc::Status status = stub.GetRollup(CallContext().get(), request, &rollup);
  if (!status.ok()) return Fail("GetRollup", status);
  std::printf("%s %d: %d units\n", rollup.unit().empty() ? "nation" : rollup.unit().c_str(),
              rollup.year(), rollup.child_units());
  std::printf("%s  %s  %s  %s  %s  %s\n", PadRight("Nội dung", kLabelWidth).c_str(),
              PadLeft("Kế hoạch", kAmountWidth).c_str(), PadLeft("Phân bổ", kAmountWidth).c_str(),
              PadLeft("Giải ngân", kAmountWidth).c_str(), PadLeft("Tỷ lệ %", 8).c_str(), "Đơn vị");
  auto rate = [](bool present, int32_t bp) {
    return PadLeft(present ? FormatPercentBp(bp) : std::string(), 8);
  };
  for (const v1::RollupLine& l : rollup.lines()) {
    std::printf("%s  %s  %s  %s  %s  %d\n", LineLabel(*lines, l.line()).c_str(),
                Amount(l.planned().has_total_dong(), l.planned().total_dong()).c_str(),
                Amount(l.allocated().has_total_dong(), l.allocated().total_dong()).c_str(),
                Amount(l.disbursed().has_total_dong(), l.disbursed().total_dong()).c_str(),
                rate(l.has_disbursement_rate_bp(), l.disbursement_rate_bp()).c_str(),
                l.reporting_units());
  }
  for (const v1::FundingTotals& t : rollup.totals()) {
    std::printf("%s  %s  %s  %s  %s\n",
                PadRight(absl::StrCat("Cộng ", Suffix(v1::FundingKind_Name(t.funding_kind()),
                                                      "FUNDING_KIND_")),
                         kLabelWidth)
                    .c_str(),
                Amount(t.planned().has_total_dong(), t.planned().total_dong()).c_str(),
                Amount(t.allocated().has_total_dong(), t.allocated().total_dong()).c_str(),
                Amount(t.disbursed().has_total_dong(), t.disbursed().total_dong()).c_str(),
                rate(t.has_disbursement_rate_bp(), t.disbursement_rate_bp()).c_str());
  }
  std::printf("(triệu đồng)\n");
  return 0;
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) return UsageError("no command given");
  const std::string& command = args[0];
  const size_t operands = args.size() - 1;
  const std::string addr = absl::GetFlag(FLAGS_addr);
  if (addr.empty()) return UsageError("--addr=HOST:PORT is required");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = server::ToolChannel(
      addr, absl::GetFlag(FLAGS_token), absl::GetFlag(FLAGS_internal_key_file), kTool);
  if (!channel.ok()) return UsageError(channel.status().message());
  auto stub = v1::BudgetService::NewStub(*channel);

  if (command == "wait-ready" && operands == 0) {
    return server::WaitReady(*channel, "htx.budget.v1.BudgetService", addr,
                             absl::GetFlag(FLAGS_timeout_seconds));
  }
  if (command == "import-catalog" && operands == 0) return ImportCatalogCommand(*stub);
  if (command == "load-appendix" && operands == 1) return LoadAppendixCommand(*stub, args[1]);
  if (command == "table" && operands == 0) return TableCommand(*stub);
  if (command == "findings" && operands == 0) return FindingsCommand(*stub);
  if (command == "rollup" && operands == 0) return RollupCommand(*stub);
  for (absl::string_view known :
       {"wait-ready", "import-catalog", "load-appendix", "table", "findings", "rollup"}) {
    if (command == known) return UsageError(absl::StrCat(command, ": wrong number of arguments"));
  }
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace
}  // namespace htx::budget

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(htx::budget::kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  return htx::budget::Run(std::vector<std::string>(positional.begin() + 1, positional.end()));
}
