// htx-registry-cli: a command-line client of htx.registry.v1.RegistryService,
// for loading the official lists and the sample, importing a spreadsheet and
// looking at what the registry holds.
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/server/flags.h"
#include "common/server/health_client.h"
#include "common/server/tool.h"
#include "common/status/status.h"
#include "google/protobuf/util/json_util.h"
#include "htx/registry/v1/registry.grpc.pb.h"
#include "services/registry/registry_logic.h"
#include "services/registry/sample_data.h"

ABSL_FLAG(std::string, addr, "",
          "HOST:PORT of the registry service, or of the gateway with --token (required)");
ABSL_FLAG(std::string, token, "",
          "a bearer token (JWT): call through the gateway at --addr as its principal");
ABSL_FLAG(std::string, provinces, "services/registry/data/provinces-2025.csv",
          "import-units: the province list CSV");
ABSL_FLAG(std::string, former, "services/registry/data/former-provinces-2025.csv",
          "import-units: the former provinces CSV");
ABSL_FLAG(uint32_t, seed, 2026, "load-sample: the generator's seed");
ABSL_FLAG(std::string, unit, "provinces/01",
          "counts: the subtree (\"\" = the nation, a province or a commune)");
ABSL_FLAG(std::string, as_of, "", "counts: the day counted, YYYY-MM-DD (required)");
ABSL_FLAG(std::string, parent, "", "list: the parent unit or subtree (\"\" = the nation)");
ABSL_FLAG(int32_t, timeout_seconds, 30, "wait-ready: how long to wait");
ABSL_FLAG(int32_t, page_size, 0, "list: items per request (0 = the server's default)");

namespace htx::registry {
namespace {

constexpr char kUsage[] =
    R"(a client of the registry service (htx.registry.v1.RegistryService).

usage: htx-registry-cli --addr=HOST:PORT (--internal_key_file=FILE | --token=JWT) COMMAND [ARGUMENTS] [FLAGS]

commands:
  import-units [--provinces=FILE] [--former=FILE]
      Imports the 34 provinces in force from 1/7/2025 and the 29 former ones.
      Defaults: services/registry/data/provinces-2025.csv and
      services/registry/data/former-provinces-2025.csv (relative to the current directory).
  load-sample [--seed=N]
      Imports the 126 sample communes and 7 sample agencies of Hà Nội and the
      generated sample registry
      (run import-units first). Loading it again writes nothing.
  import-csv FILE
      Imports organisations from a CSV with the header
        registration_code,kind,display_name,commune,sector,founding_date,members,
        regular_workers,managers_intermediate,managers_higher
      (kind HTX|LH_HTX|THT, sector AGRICULTURE|INDUSTRY_HANDICRAFT|CONSTRUCTION|CREDIT|
      TRADE|TRANSPORT|OTHER, commune provinces/PP/communes/CCCCC, date YYYY-MM-DD).
      Bad rows are reported with their line; the good ones are kept.
  counts --as_of=YYYY-MM-DD [--unit=provinces/01]
      Counts by kind and sector on a day; flows from 1 January of that year.
  wait-ready [--timeout_seconds=N]
      Waits until the registry reports SERVING on grpc.health.v1 (default 30 s).
  get NAME
      A unit or an organisation, as JSON.
  list [organizations|units] [--parent=NAME] [--page_size=N]
      The organisations of a subtree (default), or the units directly under the
      nation or a province; every page.

exit status: 0 done, 1 a call failed or rows were rejected, 2 usage error.
)";

using server::kExitError;
using server::kExitUsage;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr absl::Duration kLoadTimeout = absl::Seconds(300);
// Rows per ImportRegistry message (the server takes at most 1000).
constexpr size_t kBatchSize = 500;

using Stub = v1::RegistryService::Stub;
using type::v1::RowResult;

int UsageError(absl::string_view problem) {
  std::fprintf(stderr, "htx-registry-cli: %s\n\n%s", std::string(problem).c_str(), kUsage);
  return kExitUsage;
}

int Fail(absl::string_view what, const absl::Status& status) {
  return server::PrintFailure("htx-registry-cli", what, status);
}
int Fail(absl::string_view what, const grpc::Status& status) {
  return Fail(what, FromGrpcStatus(status));
}
int Fail(absl::string_view what, absl::StatusCode code, absl::string_view message) {
  return Fail(what, absl::Status(code, message));
}

std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration timeout = kCallTimeout) {
  return server::CallContext(timeout);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "ORGANIZATION_KIND_HTX" -> "HTX".
std::string Suffix(const std::string& enum_name, absl::string_view prefix) {
  absl::string_view name = enum_name;
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

std::string VietnameseDate(const type::v1::Date& date) {
  return absl::StrFormat("%02d/%02d/%04d", date.day(), date.month(), date.year());
}

// Display width of UTF-8 text: Vietnamese is written with precomposed letters,
// one code point per column.
size_t Width(absl::string_view text) {
  size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

std::string PadRight(absl::string_view text, size_t width) {
  return absl::StrCat(text, std::string(width > Width(text) ? width - Width(text) : 0, ' '));
}

// ---- import-units, load-sample -------------------------------------------------

int ImportUnits(Stub& stub, const std::vector<v1::Unit>& units, absl::string_view what) {
  v1::ImportUnitsRequest request;
  for (const v1::Unit& unit : units) *request.add_units() = unit;
  v1::ImportUnitsResponse response;
  grpc::Status status = stub.ImportUnits(CallContext().get(), request, &response);
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      return Fail("ImportUnits", absl::StatusCode::kNotFound,
                  absl::StrCat(status.error_message(), " (run import-units first?)"));
    }
    return Fail("ImportUnits", status);
  }
  std::printf("%s: %d units created, %d replaced\n", std::string(what).c_str(), response.created(),
              response.replaced());
  return 0;
}

int ImportUnitsCommand(Stub& stub) {
  const std::string provinces_path = absl::GetFlag(FLAGS_provinces);
  const std::string former_path = absl::GetFlag(FLAGS_former);
  absl::StatusOr<std::string> provinces = ReadFile(provinces_path);
  if (!provinces.ok()) return Fail("import-units", provinces.status());
  absl::StatusOr<std::string> former = ReadFile(former_path);
  if (!former.ok()) return Fail("import-units", former.status());
  absl::StatusOr<std::vector<v1::Unit>> units = ParseProvincesCsv(*provinces, *former);
  if (!units.ok()) {
    return Fail(absl::StrCat(provinces_path, ", ", former_path), units.status());
  }
  return ImportUnits(stub, *units, "import-units");
}

// Streams `rows` through ImportRegistry (see server::StreamRows).
grpc::Status StreamRows(Stub& stub, const std::vector<v1::ImportRow>& rows,
                        const std::function<void(size_t, const RowResult&)>& on_rejected,
                        server::RowTotals* totals) {
  auto context = CallContext(kLoadTimeout);
  auto stream = stub.ImportRegistry(context.get());
  return server::StreamRows(*stream, rows, kBatchSize, v1::ImportRegistryRequest(), on_rejected,
                            totals);
}

void PrintTotals(absl::string_view what, size_t rows, const server::RowTotals& totals) {
  std::printf("%s: %zu rows: %d applied, %d already applied, %d rejected\n",
              std::string(what).c_str(), rows, totals.applied, totals.already_applied,
              totals.rejected);
}

int LoadSampleCommand(Stub& stub) {
  const SampleRegistry sample = GenerateHanoiSample(absl::GetFlag(FLAGS_seed));
  if (int exit = ImportUnits(stub, sample.units, "load-sample: communes"); exit != 0) {
    return exit;
  }
  server::RowTotals totals;
  grpc::Status status = StreamRows(
      stub, sample.rows,
      [&](size_t index, const RowResult& result) {
        std::printf("rejected %s: %s: %s\n", sample.rows[index].request_id().c_str(),
                    absl::StatusCodeToString(static_cast<absl::StatusCode>(result.code())).c_str(),
                    result.message().c_str());
      },
      &totals);
  PrintTotals("load-sample", sample.rows.size(), totals);
  if (!status.ok()) return Fail("ImportRegistry", status);
  return totals.rejected == 0 ? 0 : kExitError;
}

// ---- import-csv --------------------------------------------------------------

int ImportCsvCommand(Stub& stub, const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Fail("import-csv", text.status());
  absl::StatusOr<OrganizationCsv> parsed = ParseOrganizationsCsv(*text, path);
  if (!parsed.ok()) return Fail("import-csv", parsed.status());
  for (const absl::Status& problem : parsed->problems) {
    std::printf("bad row: %s\n", std::string(problem.message()).c_str());
  }
  server::RowTotals totals;
  grpc::Status status = StreamRows(
      stub, parsed->rows,
      [&](size_t index, const RowResult& result) {
        std::printf("%s line %d: rejected: %s: %s\n", path.c_str(), parsed->lines[index],
                    absl::StatusCodeToString(static_cast<absl::StatusCode>(result.code())).c_str(),
                    result.message().c_str());
      },
      &totals);
  totals.rejected += static_cast<int>(parsed->problems.size());
  PrintTotals("import-csv", parsed->rows.size() + parsed->problems.size(), totals);
  if (!status.ok()) return Fail("ImportRegistry", status);
  return totals.rejected == 0 ? 0 : kExitError;
}

// ---- counts ------------------------------------------------------------------

// Sector labels as Phụ lục II prints them.
constexpr const char* kSectorLabels[] = {"Nông - lâm - ngư - diêm nghiệp",
                                         "Công nghiệp - tiểu thủ công nghiệp",
                                         "Xây dựng",
                                         "Tín dụng",
                                         "Thương mại",
                                         "Vận tải",
                                         "Khác"};

struct Column {
  const char* label;
  int64_t (*value)(const v1::CountRow&);
};
const Column kColumns[] = {
    {"Tổng số", [](const v1::CountRow& r) { return r.total(); }},
    {"Đang hoạt động", [](const v1::CountRow& r) { return r.active(); }},
    {"Thành lập mới", [](const v1::CountRow& r) { return r.established(); }},
    {"Giải thể", [](const v1::CountRow& r) { return r.dissolved(); }},
    {"Tốt+khá", [](const v1::CountRow& r) { return r.rated_good() + r.rated_fair(); }},
};
constexpr size_t kLabelWidth = 38;

void PrintCountRow(absl::string_view label, const v1::CountRow& row) {
  std::string line = PadRight(absl::StrCat("  ", label), kLabelWidth);
  for (const Column& column : kColumns) {
    const size_t width = std::max<size_t>(Width(column.label), 8) + 2;
    const std::string number = absl::StrCat(column.value(row));
    absl::StrAppend(&line, std::string(width - number.size(), ' '), number);
  }
  std::printf("%s\n", line.c_str());
}

void PrintCountsTable(const v1::Counts& counts) {
  std::printf("Số tổ chức kinh tế tập thể của %s tính đến ngày %s\n",
              counts.unit().empty() ? "cả nước" : counts.unit().c_str(),
              VietnameseDate(counts.as_of()).c_str());
  std::printf("(thành lập mới, giải thể: từ %s đến %s; tốt+khá: xếp loại năm %d)\n\n",
              VietnameseDate(counts.period_start()).c_str(), VietnameseDate(counts.as_of()).c_str(),
              counts.as_of().year());
  struct Block {
    v1::OrganizationKind kind;
    const char* title;
    const char* total_label;
  };
  for (const Block& block :
       {Block{v1::ORGANIZATION_KIND_HTX, "Hợp tác xã", "Tổng số hợp tác xã"},
        Block{v1::ORGANIZATION_KIND_LH_HTX, "Liên hiệp hợp tác xã", "Tổng số LH hợp tác xã"},
        Block{v1::ORGANIZATION_KIND_THT, "Tổ hợp tác", "Tổng số tổ hợp tác"}}) {
    v1::CountRow by_sector[8];  // index = sector; 0 = all sectors
    for (const v1::CountRow& row : counts.rows()) {
      if (row.kind() == block.kind) by_sector[row.sector()] = row;
    }
    const v1::CountRow& all = by_sector[0];
    // Cooperative groups are shown only when the registry has any.
    if (block.kind == v1::ORGANIZATION_KIND_THT && all.total() == 0 && all.established() == 0 &&
        all.dissolved() == 0) {
      continue;
    }
    std::string header = PadRight(block.title, kLabelWidth);
    for (const Column& column : kColumns) {
      const size_t width = std::max<size_t>(Width(column.label), 8) + 2;
      absl::StrAppend(&header, std::string(width - Width(column.label), ' '), column.label);
    }
    std::printf("%s\n", header.c_str());
    for (int sector = 1; sector <= 7; ++sector) {
      PrintCountRow(kSectorLabels[sector - 1], by_sector[sector]);
    }
    PrintCountRow(block.total_label, all);
    if (block.kind == v1::ORGANIZATION_KIND_LH_HTX) {
      std::printf("  Số hợp tác xã thành viên của LH HTX: %lld\n",
                  static_cast<long long>(all.member_htx()));
    }
    std::printf("\n");
  }
}

int CountsCommand(Stub& stub) {
  if (absl::GetFlag(FLAGS_as_of).empty()) return UsageError("counts needs --as_of=YYYY-MM-DD");
  absl::StatusOr<type::v1::Date> as_of = ParseIsoDate(absl::GetFlag(FLAGS_as_of), "--as_of");
  if (!as_of.ok()) return UsageError(as_of.status().message());
  v1::GetCountsRequest request;
  request.set_unit(absl::GetFlag(FLAGS_unit));
  *request.mutable_as_of() = *as_of;
  v1::Counts counts;
  grpc::Status status = stub.GetCounts(CallContext().get(), request, &counts);
  if (!status.ok()) return Fail("GetCounts", status);
  PrintCountsTable(counts);
  return 0;
}

// ---- get, list ---------------------------------------------------------------

int PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return Fail("JSON", absl::StatusCode::kInternal, status.ToString());
  }
  std::printf("%s", json.c_str());
  return 0;
}

int GetCommand(Stub& stub, const std::string& name) {
  grpc::Status status;
  if (ParseOrganizationName(name, "NAME").ok()) {
    v1::GetOrganizationRequest request;
    request.set_name(name);
    v1::Organization organization;
    status = stub.GetOrganization(CallContext().get(), request, &organization);
    if (status.ok()) return PrintJson(organization);
    return Fail("GetOrganization", status);
  }
  v1::GetUnitRequest request;
  request.set_name(name);
  v1::Unit unit;
  status = stub.GetUnit(CallContext().get(), request, &unit);
  if (status.ok()) return PrintJson(unit);
  return Fail("GetUnit", status);
}

int ListUnits(Stub& stub) {
  v1::ListUnitsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_parent));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  int count = 0;
  do {
    v1::ListUnitsResponse response;
    grpc::Status status = stub.ListUnits(CallContext().get(), request, &response);
    if (!status.ok()) return Fail("ListUnits", status);
    for (const v1::Unit& unit : response.units()) {
      std::string validity;
      if (IsSet(unit.valid_from())) {
        absl::StrAppend(&validity, " từ ", VietnameseDate(unit.valid_from()));
      }
      if (IsSet(unit.valid_to())) {
        absl::StrAppend(&validity, " đến ", VietnameseDate(unit.valid_to()));
      }
      if (!unit.successor().empty()) absl::StrAppend(&validity, " → ", unit.successor());
      std::printf("%-28s %-13s %s%s\n", unit.name().c_str(),
                  Suffix(v1::UnitKind_Name(unit.kind()), "UNIT_KIND_").c_str(),
                  unit.display_name().c_str(), validity.c_str());
      ++count;
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::printf("%d units\n", count);
  return 0;
}

int ListOrganizations(Stub& stub) {
  v1::ListOrganizationsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_parent));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  int count = 0;
  do {
    v1::ListOrganizationsResponse response;
    grpc::Status status = stub.ListOrganizations(CallContext().get(), request, &response);
    if (!status.ok()) return Fail("ListOrganizations", status);
    for (const v1::Organization& o : response.organizations()) {
      std::printf("%-40s %-6s %-19s %-13s %s\n", o.name().c_str(),
                  Suffix(v1::OrganizationKind_Name(o.kind()), "ORGANIZATION_KIND_").c_str(),
                  Suffix(v1::Sector_Name(o.sector()), "SECTOR_").c_str(),
                  Suffix(v1::OrganizationStatus_Name(o.status()), "ORGANIZATION_STATUS_").c_str(),
                  o.display_name().c_str());
      ++count;
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::printf("%d organisations\n", count);
  return 0;
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) return UsageError("no command given");
  const std::string& command = args[0];
  const size_t operands = args.size() - 1;
  const std::string addr = absl::GetFlag(FLAGS_addr);
  if (addr.empty()) return UsageError("--addr=HOST:PORT is required");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = server::ToolChannel(
      addr, absl::GetFlag(FLAGS_token), absl::GetFlag(FLAGS_internal_key_file), "htx-registry-cli");
  if (!channel.ok()) return UsageError(channel.status().message());
  auto stub = v1::RegistryService::NewStub(*channel);

  if (command == "wait-ready" && operands == 0) {
    return server::WaitReady(*channel, "htx.registry.v1.RegistryService", addr,
                             absl::GetFlag(FLAGS_timeout_seconds));
  }

  if (command == "import-units" && operands == 0) return ImportUnitsCommand(*stub);
  if (command == "load-sample" && operands == 0) return LoadSampleCommand(*stub);
  if (command == "import-csv" && operands == 1) return ImportCsvCommand(*stub, args[1]);
  if (command == "counts" && operands == 0) return CountsCommand(*stub);
  if (command == "get" && operands == 1) return GetCommand(*stub, args[1]);
  if (command == "list" && operands <= 1) {
    const std::string what = operands == 0 ? "organizations" : args[1];
    if (what == "organizations") return ListOrganizations(*stub);
    if (what == "units") return ListUnits(*stub);
    return UsageError(absl::StrCat("list: \"", what, "\" is neither organizations nor units"));
  }
  for (absl::string_view known :
       {"import-units", "load-sample", "import-csv", "counts", "get", "list", "wait-ready"}) {
    if (command == known) return UsageError(absl::StrCat(command, ": wrong number of arguments"));
  }
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace
}  // namespace htx::registry

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(htx::registry::kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  return htx::registry::Run(std::vector<std::string>(positional.begin() + 1, positional.end()));
}
