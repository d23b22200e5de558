// htx-indicator-cli: a command-line client of htx.indicator.v1.IndicatorService,
// for importing the indicator catalog, loading a unit's appendix CSVs and
// looking at its tables and findings.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/api/api.h"
#include "common/server/flags.h"
#include "common/server/health_client.h"
#include "common/server/tool.h"
#include "common/status/status.h"
#include "htx/indicator/v1/indicator.grpc.pb.h"
#include "services/indicator/catalog_data.h"

ABSL_FLAG(std::string, run_id, "",
          "load-appendix: the load's id; pass a failed load's id again to resume it without "
          "writing twice (default: a new random id)");
ABSL_FLAG(std::string, addr, "",
          "HOST:PORT of the indicator service, or of the gateway with --token (required)");
ABSL_FLAG(std::string, token, "",
          "a bearer token (JWT): call through the gateway at --addr as its principal");
ABSL_FLAG(std::string, catalog, "",
          "import-catalog: the catalog CSV (default services/indicator/data/catalog-2026.csv); "
          "load-appendix: read the catalog from this file instead of the service");
ABSL_FLAG(std::string, unit, "",
          "load-appendix, table, findings: the unit, e.g. provinces/01 (\"\" = the nation, "
          "table --source=rollup only)");
ABSL_FLAG(int32_t, year, 0, "load-appendix, table, findings: the plan year, e.g. 2026");
ABSL_FLAG(std::string, table, "",
          "table: the table id, e.g. phu-luc-1 (required); findings: only this table's findings");
ABSL_FLAG(std::string, source, "own", "table: own (the unit's values) or rollup (its children's)");
ABSL_FLAG(bool, all, false, "findings: include the passed findings");
ABSL_FLAG(int32_t, timeout_seconds, 30, "wait-ready: how long to wait");
ABSL_FLAG(int32_t, page_size, 0, "findings: items per request (0 = the server's default)");

namespace htx::indicator {
namespace {

constexpr char kUsage[] =
    R"(a client of the indicator service (htx.indicator.v1.IndicatorService).

usage: htx-indicator-cli --addr=HOST:PORT (--internal_key_file=FILE | --token=JWT) COMMAND [ARGUMENTS] [FLAGS]

commands:
  wait-ready [--timeout_seconds=N]
      Waits until the indicator service reports SERVING on grpc.health.v1 (default 30 s).
  import-catalog [--catalog=FILE]
      Imports a catalog with its indicators and rules (default
      services/indicator/data/catalog-2026.csv, relative to the current directory,
      with the rules file it names). Importing the same files again writes nothing.
  load-appendix --unit=UNIT --year=YYYY [--catalog=FILE] [--run_id=ID] FILE...
      Loads appendix CSVs ("code,parent,label_vi,unit,<column ids>...", one row
      per indicator; blank = not reported, "-" = printed dash) into the unit's
      values of the plan year, checked against the year's catalog as the
      service holds it (or as --catalog reads it). A value that is already
      stored makes no new revision; --run_id of an interrupted load resumes it
      without writing twice. Rejected rows are listed with their reason.
  table --unit=UNIT --year=YYYY --table=ID [--source=own|rollup]
      An appendix as a text table: figures, % of plan, the registry's figure
      in brackets beside derived cells, and the unit-year's findings.
      --source=rollup with --unit= (empty) is the nation.
  findings --unit=UNIT --year=YYYY [--table=ID] [--all]
      The findings of the rules on a unit-year: failed and not checkable ones,
      or every one with --all.

exit status: 0 done, 1 a call failed or rows were rejected, 2 usage error.
)";

using server::kExitError;
using server::kExitUsage;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr absl::Duration kLoadTimeout = absl::Seconds(300);
// Rows per IngestValues message (the server takes at most 1000).
constexpr size_t kBatchSize = 1000;
// The system the loaded values come through (kept in their provenance).
constexpr char kSourceSystem[] = "htx-indicator-cli";

using Stub = v1::IndicatorService::Stub;
using type::v1::RowResult;

int UsageError(absl::string_view problem) {
  std::fprintf(stderr, "htx-indicator-cli: %s\n\n%s", std::string(problem).c_str(), kUsage);
  return kExitUsage;
}

int Fail(absl::string_view what, const absl::Status& status) {
  return server::PrintFailure("htx-indicator-cli", what, status);
}
int Fail(absl::string_view what, const grpc::Status& status) {
  return Fail(what, FromGrpcStatus(status));
}

std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration timeout = kCallTimeout) {
  return server::CallContext(timeout);
}

using server::LastSegment;
using server::PadLeft;
using server::PadRight;
using server::Suffix;
using server::Truncate;
using server::Width;

// A decimal string written the Vietnamese way: "2962" -> "2.962",
// "-3200.5" -> "-3.200,5"; with `min_decimals` 2, "105.2" -> "105,20".
std::string VietnameseNumber(absl::string_view number, size_t min_decimals = 0) {
  std::string sign;
  if (absl::ConsumePrefix(&number, "-")) sign = "-";
  absl::string_view integer = number;
  absl::string_view fraction;
  const size_t point = number.find('.');
  if (point != absl::string_view::npos) {
    integer = number.substr(0, point);
    fraction = number.substr(point + 1);
  }
  std::string grouped;
  for (size_t i = 0; i < integer.size(); ++i) {
    if (i > 0 && (integer.size() - i) % 3 == 0) grouped.push_back('.');
    grouped.push_back(integer[i]);
  }
  std::string decimals(fraction);
  if (decimals.size() < min_decimals) decimals.append(min_decimals - decimals.size(), '0');
  return absl::StrCat(sign, grouped, decimals.empty() ? "" : ",", decimals);
}

// A cell as printed: the number, "-" for a dash, nothing for a blank.
std::string CellText(const v1::CellValue& value, size_t min_decimals = 0) {
  switch (value.state()) {
    case v1::VALUE_STATE_NUMBER:
      return VietnameseNumber(value.number(), min_decimals);
    case v1::VALUE_STATE_DASH:
      return "-";
    default:
      return "";
  }
}

std::string VietnameseDate(const type::v1::Date& date) {
  return absl::StrFormat("%02d/%02d/%04d", date.day(), date.month(), date.year());
}

// ---- import-catalog ------------------------------------------------------------

int ImportCatalogCommand(Stub& stub) {
  std::string path = absl::GetFlag(FLAGS_catalog);
  if (path.empty()) path = kCatalog2026Path;
  absl::StatusOr<v1::ImportCatalogRequest> request = LoadCatalogFile(path);
  if (!request.ok()) return Fail(path, request.status());
  // The same files give the same request and so the same id: importing them
  // again replays the first answer and writes nothing.
  request->set_request_id(
      absl::StrFormat("catalog-%d-%016x", request->catalog().year(), api::DigestMessage(*request)));
  v1::Catalog catalog;
  grpc::Status status = stub.ImportCatalog(CallContext().get(), *request, &catalog);
  if (!status.ok()) return Fail("ImportCatalog", status);
  std::printf("catalog %s: %d indicators, %d rules\n", catalog.name().c_str(),
              catalog.indicator_count(), catalog.rule_count());
  return 0;
}

// ---- load-appendix -------------------------------------------------------------

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
  v1::ListIndicatorsRequest indicators;
  indicators.set_parent(name);
  indicators.set_page_size(api::kMaxPageSize);
  do {
    v1::ListIndicatorsResponse response;
    status = stub.ListIndicators(CallContext().get(), indicators, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    for (v1::Indicator& indicator : *response.mutable_indicators()) {
      *out->add_indicators() = std::move(indicator);
    }
    indicators.set_page_token(response.next_page_token());
  } while (!indicators.page_token().empty());
  v1::ListRulesRequest rules;
  rules.set_parent(name);
  rules.set_page_size(api::kMaxPageSize);
  do {
    v1::ListRulesResponse response;
    status = stub.ListRules(CallContext().get(), rules, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    for (v1::ValidationRule& rule : *response.mutable_rules()) *out->add_rules() = std::move(rule);
    rules.set_page_token(response.next_page_token());
  } while (!rules.page_token().empty());
  return absl::OkStatus();
}

// A row's idempotency key: the load (--run_id, random by default) and the
// row's place in it. Retrying a load with its run id skips what it already
// wrote; a new load writes again, so a figure changed elsewhere in between is
// put back (a write that changes nothing makes no new revision).
std::string RowRequestId(absl::string_view run_id, size_t file, size_t row) {
  return absl::StrCat("appendix-", run_id, "-", file, "-", row);
}

// Streams `rows` through IngestValues (see server::StreamRows).
grpc::Status StreamRows(Stub& stub, const std::vector<v1::ValueWrite>& rows,
                        const std::function<void(size_t, const RowResult&)>& on_rejected,
                        server::RowTotals* totals) {
  auto context = CallContext(kLoadTimeout);
  auto stream = stub.IngestValues(context.get());
  v1::IngestValuesRequest prototype;
  prototype.set_source_system(kSourceSystem);
  return server::StreamRows(*stream, rows, kBatchSize, prototype, on_rejected, totals);
}

int LoadAppendixCommand(Stub& stub, const std::vector<std::string>& files) {
  const std::string unit = absl::GetFlag(FLAGS_unit);
  const int year = absl::GetFlag(FLAGS_year);
  if (unit.empty()) return UsageError("load-appendix needs --unit=UNIT");
  if (year == 0) return UsageError("load-appendix needs --year=YYYY");

  v1::ImportCatalogRequest catalog;
  const std::string catalog_path = absl::GetFlag(FLAGS_catalog);
  if (catalog_path.empty()) {
    absl::Status fetched = FetchCatalog(stub, year, &catalog);
    if (!fetched.ok()) return Fail(absl::StrCat("catalogs/", year), fetched);
  } else {
    absl::StatusOr<v1::ImportCatalogRequest> loaded = LoadCatalogFile(catalog_path);
    if (!loaded.ok()) return Fail(catalog_path, loaded.status());
    catalog = *std::move(loaded);
  }

  std::string run_id = absl::GetFlag(FLAGS_run_id);
  if (run_id.empty()) {
    absl::BitGen random;
    run_id = absl::StrFormat("%016x", absl::Uniform<uint64_t>(random));
  }
  // Every file is read and checked before anything is written.
  std::vector<std::vector<v1::ValueWrite>> writes;
  for (size_t f = 0; f < files.size(); ++f) {
    absl::StatusOr<std::vector<v1::ValueWrite>> parsed =
        ParseAppendixCsv(files[f], unit, year, catalog);
    if (!parsed.ok()) return Fail(files[f], parsed.status());
    for (size_t r = 0; r < parsed->size(); ++r) {
      (*parsed)[r].set_request_id(RowRequestId(run_id, f, r));
    }
    writes.push_back(*std::move(parsed));
  }

  int rejected = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::vector<v1::ValueWrite>& rows = writes[f];
    server::RowTotals totals;
    grpc::Status status = StreamRows(
        stub, rows,
        [&](size_t index, const RowResult& result) {
          std::printf(
              "%s: rejected %s: %s: %s\n", files[f].c_str(), rows[index].name().c_str(),
              absl::StatusCodeToString(static_cast<absl::StatusCode>(result.code())).c_str(),
              result.message().c_str());
        },
        &totals);
    std::printf("%s: %zu values: %d applied, %d already applied, %d rejected\n", files[f].c_str(),
                rows.size(), totals.applied, totals.already_applied, totals.rejected);
    if (!status.ok()) return Fail("IngestValues", status);
    rejected += totals.rejected;
  }
  return rejected == 0 ? 0 : kExitError;
}

// ---- table -------------------------------------------------------------------

constexpr size_t kLabelWidth = 52;
constexpr size_t kIndent = 2;  // per level of the tree
constexpr char kGap[] = "  ";

// One figure column of the printed table: the value, right-aligned, and
// beside it, when any row has one, the registry's figure in brackets.
struct FigureColumn {
  std::string group;  // upper header line
  std::string label;  // lower header line
  size_t value_width = 0;
  size_t registry_width = 0;  // 0: no registry figures in this column

  size_t TotalWidth() const {
    const size_t figures = value_width + (registry_width == 0 ? 0 : 1 + registry_width);
    return std::max({figures, Width(group), Width(label)});
  }
  std::string Format(absl::string_view value, absl::string_view registry) const {
    std::string text = PadLeft(value, value_width);
    if (registry_width > 0) {
      absl::StrAppend(&text, " ", PadRight(registry, registry_width));
    }
    return PadLeft(text, TotalWidth());
  }
};

// The printed cells of one row.
struct PrintedRow {
  std::vector<std::pair<std::string, std::string>> figures;  // value, "[registry]"
  std::vector<std::string> ratios;
};

// "UTH 2025" for estimate_2025, "TH 2024" for actual_2024, "TH 30/06/2025" for a partial.
std::string ShortColumn(const v1::CatalogTable& table, const std::string& column_id) {
  for (const v1::Column& column : table.columns()) {
    if (column.id() != column_id) continue;
    switch (column.kind()) {
      case v1::COLUMN_KIND_ESTIMATE:
        return absl::StrCat("UTH ", column.year());
      case v1::COLUMN_KIND_PLAN:
        return absl::StrCat("KH ", column.year());
      case v1::COLUMN_KIND_PARTIAL_ACTUAL:
        return absl::StrCat("TH ", VietnameseDate(column.as_of()));
      default:
        return absl::StrCat("TH ", column.year());
    }
  }
  return column_id;
}

void PrintTable(const v1::IndicatorTable& table) {
  const v1::CatalogTable& catalog_table = table.table();
  std::printf("%s\n%s\n", catalog_table.heading().c_str(), catalog_table.title().c_str());
  std::printf("%s, kế hoạch năm %d, %s%s\n\n",
              table.unit().empty() ? "cả nước" : table.unit().c_str(), table.year(),
              table.source() == v1::TABLE_SOURCE_ROLLUP ? "tổng hợp từ các đơn vị cấp dưới"
                                                        : "số liệu của đơn vị",
              table.locked() ? " (đã khóa)" : "");

  // Columns: the table's, then the % of plan ratios in order of appearance.
  std::vector<FigureColumn> figures;
  for (const v1::Column& column : catalog_table.columns()) {
    figures.push_back(FigureColumn{column.group_label(), column.label()});
  }
  std::vector<std::pair<std::string, std::string>> ratio_keys;  // column, base
  for (const v1::TableRow& row : table.rows()) {
    for (const v1::Ratio& ratio : row.ratios()) {
      if (ratio.kind() != v1::RATIO_KIND_PERCENT_OF_PLAN) continue;
      std::pair<std::string, std::string> key{ratio.column(), ratio.base_column()};
      if (std::find(ratio_keys.begin(), ratio_keys.end(), key) == ratio_keys.end()) {
        ratio_keys.push_back(std::move(key));
      }
    }
  }
  std::vector<FigureColumn> ratio_columns;
  for (const auto& [column, base] : ratio_keys) {
    ratio_columns.push_back(FigureColumn{
        "% so với KH",
        absl::StrCat(ShortColumn(catalog_table, column), "/", ShortColumn(catalog_table, base))});
  }

  std::vector<PrintedRow> printed;
  size_t stt_width = Width("STT");
  size_t unit_width = Width("Đơn vị tính");
  for (const v1::TableRow& row : table.rows()) {
    PrintedRow p;
    p.figures.resize(figures.size());
    for (const v1::TableCell& cell : row.cells()) {
      for (int c = 0; c < catalog_table.columns_size(); ++c) {
        if (catalog_table.columns(c).id() != cell.column()) continue;
        p.figures[c].first = CellText(cell.value());
        if (cell.has_registry_value() && (cell.registry_value().state() == v1::VALUE_STATE_NUMBER ||
                                          cell.registry_value().state() == v1::VALUE_STATE_DASH)) {
          p.figures[c].second = absl::StrCat("[", CellText(cell.registry_value()), "]");
        }
      }
    }
    p.ratios.resize(ratio_columns.size());
    for (const v1::Ratio& ratio : row.ratios()) {
      const std::pair<std::string, std::string> key{ratio.column(), ratio.base_column()};
      const auto it = std::find(ratio_keys.begin(), ratio_keys.end(), key);
      if (ratio.kind() == v1::RATIO_KIND_PERCENT_OF_PLAN && it != ratio_keys.end()) {
        p.ratios[it - ratio_keys.begin()] = CellText(ratio.value(), 2);  // percent
      }
    }
    for (size_t c = 0; c < figures.size(); ++c) {
      figures[c].value_width = std::max(figures[c].value_width, Width(p.figures[c].first));
      figures[c].registry_width = std::max(figures[c].registry_width, Width(p.figures[c].second));
    }
    for (size_t c = 0; c < ratio_columns.size(); ++c) {
      ratio_columns[c].value_width = std::max(ratio_columns[c].value_width, Width(p.ratios[c]));
    }
    stt_width = std::max(stt_width, Width(row.printed_number()));
    unit_width = std::max(unit_width, Width(row.unit_of_measure()));
    printed.push_back(std::move(p));
  }

  // Two header lines: the group labels ("Năm 2025") above the column labels.
  std::string groups = absl::StrCat(PadRight("", stt_width), kGap, PadRight("", kLabelWidth), kGap,
                                    PadRight("", unit_width));
  std::string labels =
      absl::StrCat(PadRight("STT", stt_width), kGap, PadRight("Chỉ tiêu", kLabelWidth), kGap,
                   PadRight("Đơn vị tính", unit_width));
  for (const std::vector<FigureColumn>* columns : {&figures, &ratio_columns}) {
    // A group label spans the adjacent columns that share it, centred.
    for (size_t c = 0; c < columns->size();) {
      const std::string& group = (*columns)[c].group;
      size_t span = (*columns)[c].TotalWidth();
      size_t next = c + 1;
      while (!group.empty() && next < columns->size() && (*columns)[next].group == group) {
        span += Width(kGap) + (*columns)[next].TotalWidth();
        ++next;
      }
      const size_t left = (span - std::min(span, Width(group)) + 1) / 2;
      absl::StrAppend(&groups, kGap, PadRight(absl::StrCat(std::string(left, ' '), group), span));
      for (; c < next; ++c) {
        absl::StrAppend(&labels, kGap, PadLeft((*columns)[c].label, (*columns)[c].TotalWidth()));
      }
    }
  }
  const std::string rule(Width(labels), '-');
  std::printf("%s\n%s\n%s\n", std::string(absl::StripTrailingAsciiWhitespace(groups)).c_str(),
              labels.c_str(), rule.c_str());

  for (int r = 0; r < table.rows_size(); ++r) {
    const v1::TableRow& row = table.rows(r);
    const PrintedRow& p = printed[r];
    const std::string indent(kIndent * static_cast<size_t>(std::max(row.level(), 0)), ' ');
    const std::string label = Truncate(absl::StrCat(indent, row.label()), kLabelWidth);
    std::string line =
        absl::StrCat(PadRight(row.printed_number(), stt_width), kGap, PadRight(label, kLabelWidth),
                     kGap, PadRight(row.unit_of_measure(), unit_width));
    if (!row.heading()) {
      for (size_t c = 0; c < figures.size(); ++c) {
        absl::StrAppend(&line, kGap, figures[c].Format(p.figures[c].first, p.figures[c].second));
      }
      for (size_t c = 0; c < ratio_columns.size(); ++c) {
        absl::StrAppend(&line, kGap, ratio_columns[c].Format(p.ratios[c], ""));
      }
    }
    std::printf("%s\n", std::string(absl::StripTrailingAsciiWhitespace(line)).c_str());
  }
  std::printf("%s\n", rule.c_str());
  for (const std::string& note : catalog_table.notes()) std::printf("%s\n", note.c_str());
  std::printf("[số trong ngoặc]: số liệu của sổ đăng ký tại ngày đối chiếu của cột\n");
  if (table.registry_unavailable()) {
    std::printf("the registry did not answer: no registry figures\n");
  }
  if (table.source() == v1::TABLE_SOURCE_ROLLUP) {
    std::printf("findings: none for roll-ups\n");
  } else {
    const v1::FindingSummary& s = table.findings();
    std::printf(
        "findings of %s %d: %d errors, %d warnings (%d unexplained), %d not checkable; %d "
        "blocking submission\n",
        table.unit().c_str(), table.year(), s.errors(), s.warnings(), s.unexplained_warnings(),
        s.not_checkable(), s.blocking());
  }
}

int TableCommand(Stub& stub) {
  const std::string unit = absl::GetFlag(FLAGS_unit);
  const std::string source = absl::GetFlag(FLAGS_source);
  v1::GetTableRequest request;
  request.set_unit(unit);
  request.set_year(absl::GetFlag(FLAGS_year));
  request.set_table(absl::GetFlag(FLAGS_table));
  if (source == "own") {
    request.set_source(v1::TABLE_SOURCE_OWN);
  } else if (source == "rollup") {
    request.set_source(v1::TABLE_SOURCE_ROLLUP);
  } else {
    return UsageError(absl::StrCat("--source=\"", source, "\" is neither own nor rollup"));
  }
  if (unit.empty() && request.source() == v1::TABLE_SOURCE_OWN) {
    return UsageError("table needs --unit=UNIT (or --source=rollup for the nation)");
  }
  if (request.year() == 0) return UsageError("table needs --year=YYYY");
  if (request.table().empty()) return UsageError("table needs --table=ID, e.g. phu-luc-1");
  v1::IndicatorTable table;
  grpc::Status status = stub.GetTable(CallContext().get(), request, &table);
  if (!status.ok()) return Fail("GetTable", status);
  PrintTable(table);
  return 0;
}

// ---- findings ----------------------------------------------------------------

int FindingsCommand(Stub& stub) {
  v1::ListFindingsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_unit));
  request.set_year(absl::GetFlag(FLAGS_year));
  request.set_table(absl::GetFlag(FLAGS_table));
  request.set_include_passed(absl::GetFlag(FLAGS_all));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
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
          absl::StrFormat("%-13s %-7s %-40s %-18s %s",
                          Suffix(v1::FindingOutcome_Name(f.outcome()), "FINDING_OUTCOME_"),
                          Suffix(v1::Severity_Name(f.severity()), "SEVERITY_"),
                          LastSegment(f.rule()), f.column(), f.message());
      if (f.has_explanation() && !f.explanation().text().empty()) {
        absl::StrAppend(&line, " (giải trình: ", f.explanation().text(), ")");
      }
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

int Run(const std::vector<std::string>& args) {
  if (args.empty()) return UsageError("no command given");
  const std::string& command = args[0];
  const size_t operands = args.size() - 1;
  const std::string addr = absl::GetFlag(FLAGS_addr);
  if (addr.empty()) return UsageError("--addr=HOST:PORT is required");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      server::ToolChannel(addr, absl::GetFlag(FLAGS_token), absl::GetFlag(FLAGS_internal_key_file),
                          "htx-indicator-cli");
  if (!channel.ok()) return UsageError(channel.status().message());
  auto stub = v1::IndicatorService::NewStub(*channel);

  if (command == "wait-ready" && operands == 0) {
    return server::WaitReady(*channel, "htx.indicator.v1.IndicatorService", addr,
                             absl::GetFlag(FLAGS_timeout_seconds));
  }
  if (command == "import-catalog" && operands == 0) return ImportCatalogCommand(*stub);
  if (command == "load-appendix" && operands >= 1) {
    return LoadAppendixCommand(*stub, std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (command == "table" && operands == 0) return TableCommand(*stub);
  if (command == "findings" && operands == 0) return FindingsCommand(*stub);
  for (absl::string_view known :
       {"wait-ready", "import-catalog", "load-appendix", "table", "findings"}) {
    if (command == known) return UsageError(absl::StrCat(command, ": wrong number of arguments"));
  }
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace
}  // namespace htx::indicator

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(htx::indicator::kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  return htx::indicator::Run(std::vector<std::string>(positional.begin() + 1, positional.end()));
}
