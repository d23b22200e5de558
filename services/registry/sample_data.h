// Data for the registry that does not come through the API: the official
// province list (CSV), organisations from a spreadsheet (CSV), and a
// generated sample registry of Hà Nội that reproduces the counts printed in
// Kế hoạch 381/KH-UBND (30/12/2025), Phụ lục I and II.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "htx/registry/v1/registry.pb.h"

namespace htx::registry {

namespace v1 = ::htx::registry::v1;

// ---- CSV -------------------------------------------------------------------

// One record of a CSV text and the line it starts on (1-based).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

// A CSV text with a header row (RFC 4180 quoting: "a, b" and "say ""hi""";
// CRLF or LF). Lines starting with '#' and blank lines are skipped, so the
// project's data files can carry their provenance in comments.
class CsvTable {
 public:
  // `source` names the text in errors, e.g. "provinces-2025.csv". The header
  // must name every column of `required`. INVALID_ARGUMENT (reason
  // INVALID_CSV, metadata source/line/field) for an unterminated quote or a
  // missing column.
  static absl::StatusOr<CsvTable> Parse(absl::string_view text, absl::string_view source,
                                        const std::vector<std::string>& required);

  // The data records, after the header.
  const std::vector<CsvRecord>& records() const { return records_; }
  // The value of `column` in `record`; "" when the record is short or the
  // header has no such column.
  const std::string& Get(const CsvRecord& record, absl::string_view column) const;
  // OK when `record` has as many fields as the header.
  absl::Status CheckWidth(const CsvRecord& record) const;
  // INVALID_ARGUMENT naming the source, the record's line and the column, e.g.
  // "provinces-2025.csv line 7, column kind: ...".
  absl::Status Error(const CsvRecord& record, absl::string_view column,
                     absl::string_view problem) const;

 private:
  std::string source_;
  std::vector<std::string> header_;
  std::vector<CsvRecord> records_;
};

// "2025-07-01" as a date; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<type::v1::Date> ParseIsoDate(absl::string_view text, absl::string_view field);

// ---- Official lists ----------------------------------------------------------

// The province-level units from two CSV texts:
//   provinces: code,name_vi,kind,merged_from  (kind "city" or "province";
//              merged_from a "; "-separated list of former names)
//   former:    code,name_vi,successor_code,valid_to
// Provinces are valid from 2025-07-01 (the reform); former provinces end on
// their valid_to with the named province as successor, which must be in the
// first list. Bad text is INVALID_ARGUMENT naming the file, line and column.
absl::StatusOr<std::vector<v1::Unit>> ParseProvincesCsv(absl::string_view csv_text,
                                                        absl::string_view former_csv_text);

// ---- Organisations from a spreadsheet ----------------------------------------

// Columns of an organisation CSV, in the order a template lists them.
const std::vector<std::string>& OrganizationCsvColumns();

// The rows of an organisation CSV ready for ImportRegistry, and the records
// that could not become rows.
struct OrganizationCsv {
  std::vector<v1::ImportRow> rows;
  // The CSV line of each row, for reporting the server's answers.
  std::vector<int> lines;
  // One INVALID_ARGUMENT per bad record, naming its line and column.
  std::vector<absl::Status> problems;
};

// Reads organisations with the columns of OrganizationCsvColumns(): kind
// HTX|LH_HTX|THT, sector as the Sector suffix (AGRICULTURE...), commune as a
// resource name, founding_date YYYY-MM-DD, counts as integers (blank = 0).
// Each row's request_id is "csv-" + registration_code, so importing the file
// twice writes nothing new. Fails as a whole only when the text is not a CSV
// with those columns.
absl::StatusOr<OrganizationCsv> ParseOrganizationsCsv(absl::string_view csv_text,
                                                      absl::string_view source);

// ---- Generated sample registry -------------------------------------------------

// A made-up registry of Hà Nội (province 01). Every unit and organisation is
// marked as sample data in its name.
struct SampleRegistry {
  // The 126 communes and wards (after 1/7/2025) as sample units
  // provinces/01/communes/00001..00126, then seven sample reporting agencies
  // (provinces/01/agencies/...); the province itself comes from the province
  // list.
  std::vector<v1::Unit> units;
  // Organisations, then their events in date order, then classifications,
  // each with a deterministic request_id ("sample-01-org-0001",
  // "sample-01-ev-000001", "sample-01-cls-000001").
  std::vector<v1::ImportRow> rows;
};

// The same registry for the same seed, on every platform. Counted with
// CountAccumulator as of 31/12 of each year (flows over that year), it
// reproduces Phụ lục II (HTX and LH HTX by sector: actual 2023, actual 2024,
// estimate 2025) and the HTX rows I.1, I.1.a-d, I.2, I.3, I.4.a-b of
// Phụ lục I (actual 2024, estimate 2025; attribute sums for 2025 only,
// since attributes are current values), plus LH HTX rows II.1.a, II.1.b and
// II.2. No event is dated after 2026-06-30.
SampleRegistry GenerateHanoiSample(uint32_t seed = 2026);

}  // namespace htx::registry
