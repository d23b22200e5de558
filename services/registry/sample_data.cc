#include "services/registry/sample_data.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/status/status.h"
#include "services/registry/registry_logic.h"

namespace htx::registry {

// ---- CSV -------------------------------------------------------------------

namespace {

absl::Status CsvError(absl::string_view source, int line, absl::string_view column,
                      absl::string_view problem) {
  const std::string line_text = absl::StrCat(line);
  return Error(absl::StatusCode::kInvalidArgument, "INVALID_CSV",
               column.empty()
                   ? absl::StrCat(source, " line ", line, ": ", problem)
                   : absl::StrCat(source, " line ", line, ", column ", column, ": ", problem),
               {{"source", source}, {"line", line_text}, {"field", column}});
}

// Splits `text` into records (RFC 4180). Unquoted fields are trimmed of
// surrounding blanks; quoted fields are kept as written and may span lines.
absl::StatusOr<std::vector<CsvRecord>> SplitCsv(absl::string_view text, absl::string_view source) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // a byte-order mark from spreadsheet exports
  std::vector<CsvRecord> records;
  size_t pos = 0;
  int line = 1;
  while (pos < text.size()) {
    const size_t eol = std::min(text.find('\n', pos), text.size());
    const absl::string_view whole_line = text.substr(pos, eol - pos);
    if (absl::StripAsciiWhitespace(whole_line).empty() || absl::StartsWith(whole_line, "#")) {
      pos = eol + 1;
      ++line;
      continue;
    }
    CsvRecord record;
    record.line = line;
    std::string field;
    bool quoted = false;      // inside quotes now
    bool was_quoted = false;  // the current field started with a quote
    auto end_field = [&] {
      record.fields.push_back(was_quoted ? field : std::string(absl::StripAsciiWhitespace(field)));
      field.clear();
      was_quoted = false;
    };
    for (;;) {
      if (pos == text.size()) {
        if (quoted) {
          return CsvError(source, record.line, "", "a quoted field is not closed");
        }
        end_field();
        break;
      }
      const char c = text[pos++];
      if (quoted) {
        if (c == '"' && pos < text.size() && text[pos] == '"') {
          field += '"';
          ++pos;
        } else if (c == '"') {
          quoted = false;
        } else {
          if (c == '\n') ++line;
          field += c;
        }
      } else if (c == '"' && absl::StripAsciiWhitespace(field).empty() && !was_quoted) {
        field.clear();
        quoted = was_quoted = true;
      } else if (c == ',') {
        end_field();
      } else if (c == '\n') {
        ++line;
        end_field();
        break;
      } else if (c != '\r') {
        field += c;
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

absl::StatusOr<CsvTable> CsvTable::Parse(absl::string_view text, absl::string_view source,
                                         const std::vector<std::string>& required) {
  absl::StatusOr<std::vector<CsvRecord>> records = SplitCsv(text, source);
  if (!records.ok()) return records.status();
  if (records->empty()) return CsvError(source, 1, "", "no header row");
  CsvTable table;
  table.source_ = std::string(source);
  table.header_ = std::move(records->front().fields);
  for (const std::string& column : required) {
    if (std::find(table.header_.begin(), table.header_.end(), column) == table.header_.end()) {
      return CsvError(source, records->front().line, column, "missing from the header row");
    }
  }
  records->erase(records->begin());
  table.records_ = *std::move(records);
  return table;
}

const std::string& CsvTable::Get(const CsvRecord& record, absl::string_view column) const {
  static const std::string* const kEmpty = new std::string;
  auto it = std::find(header_.begin(), header_.end(), column);
  const size_t index = static_cast<size_t>(it - header_.begin());
  if (it == header_.end() || index >= record.fields.size()) return *kEmpty;
  return record.fields[index];
}

absl::Status CsvTable::CheckWidth(const CsvRecord& record) const {
  if (record.fields.size() == header_.size()) return absl::OkStatus();
  return CsvError(source_, record.line, "",
                  absl::StrCat(record.fields.size(), " fields, the header has ", header_.size()));
}

absl::Status CsvTable::Error(const CsvRecord& record, absl::string_view column,
                             absl::string_view problem) const {
  return CsvError(source_, record.line, column, problem);
}

absl::StatusOr<type::v1::Date> ParseIsoDate(absl::string_view text, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  type::v1::Date date;
  int year = 0, month = 0, day = 0;
  if (parts.size() != 3 || parts[0].size() != 4 || parts[1].size() != 2 || parts[2].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &year) || !absl::SimpleAtoi(parts[1], &month) ||
      !absl::SimpleAtoi(parts[2], &day)) {
    return InvalidField(field, absl::StrCat("\"", text, "\" is not a date (YYYY-MM-DD)"));
  }
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  if (absl::Status s = ValidateDate(date, field, true); !s.ok()) return s;
  return date;
}

// ---- Official lists ----------------------------------------------------------

namespace {

// The day the 2025 reorganisation of administrative units took effect.
constexpr DayKey kReformDay = 20250701;

bool IsProvinceCode(absl::string_view code) {
  return code.size() == 2 && absl::ascii_isdigit(code[0]) && absl::ascii_isdigit(code[1]);
}

}  // namespace

absl::StatusOr<std::vector<v1::Unit>> ParseProvincesCsv(absl::string_view csv_text,
                                                        absl::string_view former_csv_text) {
  absl::StatusOr<CsvTable> current =
      CsvTable::Parse(csv_text, "provinces CSV", {"code", "name_vi", "kind", "merged_from"});
  if (!current.ok()) return current.status();
  absl::StatusOr<CsvTable> former = CsvTable::Parse(
      former_csv_text, "former provinces CSV", {"code", "name_vi", "successor_code", "valid_to"});
  if (!former.ok()) return former.status();

  std::vector<v1::Unit> units;
  std::set<std::string> current_codes;
  for (const CsvRecord& record : current->records()) {
    if (absl::Status s = current->CheckWidth(record); !s.ok()) return s;
    const std::string& code = current->Get(record, "code");
    if (!IsProvinceCode(code)) {
      return current->Error(record, "code", absl::StrCat("\"", code, "\" is not 2 digits"));
    }
    if (!current_codes.insert(code).second) {
      return current->Error(record, "code", absl::StrCat(code, " appears twice"));
    }
    v1::Unit& unit = units.emplace_back();
    unit.set_name(ProvinceName(code));
    unit.set_display_name(current->Get(record, "name_vi"));
    const std::string kind = absl::AsciiStrToLower(current->Get(record, "kind"));
    if (kind == "city") {
      unit.set_kind(v1::UNIT_KIND_CITY);
    } else if (kind == "province") {
      unit.set_kind(v1::UNIT_KIND_PROVINCE);
    } else {
      return current->Error(
          record, "kind",
          absl::StrCat("\"", current->Get(record, "kind"), "\" is neither city nor province"));
    }
    *unit.mutable_valid_from() = FromDayKey(kReformDay);
    for (absl::string_view name : absl::StrSplit(current->Get(record, "merged_from"), ';')) {
      name = absl::StripAsciiWhitespace(name);
      if (!name.empty()) unit.add_merged_from(std::string(name));
    }
    if (absl::Status s = ValidateUnit(unit, ""); !s.ok()) {
      return current->Error(record, "name_vi", s.message());
    }
  }

  std::set<std::string> former_codes;
  for (const CsvRecord& record : former->records()) {
    if (absl::Status s = former->CheckWidth(record); !s.ok()) return s;
    const std::string& code = former->Get(record, "code");
    if (!IsProvinceCode(code)) {
      return former->Error(record, "code", absl::StrCat("\"", code, "\" is not 2 digits"));
    }
    if (current_codes.count(code) > 0) {
      return former->Error(record, "code",
                           absl::StrCat(code, " is a current province, not a former one"));
    }
    if (!former_codes.insert(code).second) {
      return former->Error(record, "code", absl::StrCat(code, " appears twice"));
    }
    const std::string& successor = former->Get(record, "successor_code");
    if (current_codes.count(successor) == 0) {
      return former->Error(record, "successor_code",
                           absl::StrCat("\"", successor, "\" is not in the provinces CSV"));
    }
    absl::StatusOr<type::v1::Date> valid_to =
        ParseIsoDate(former->Get(record, "valid_to"), "valid_to");
    if (!valid_to.ok()) return former->Error(record, "valid_to", valid_to.status().message());
    v1::Unit& unit = units.emplace_back();
    unit.set_name(ProvinceName(code));
    unit.set_kind(v1::UNIT_KIND_PROVINCE);
    unit.set_display_name(former->Get(record, "name_vi"));
    *unit.mutable_valid_to() = *valid_to;
    unit.set_successor(ProvinceName(successor));
    if (absl::Status s = ValidateUnit(unit, ""); !s.ok()) {
      return former->Error(record, "name_vi", s.message());
    }
  }
  return units;
}

// ---- Organisations from a spreadsheet ----------------------------------------

const std::vector<std::string>& OrganizationCsvColumns() {
  static const auto* const columns = new std::vector<std::string>{"registration_code",
                                                                  "kind",
                                                                  "display_name",
                                                                  "commune",
                                                                  "sector",
                                                                  "founding_date",
                                                                  "members",
                                                                  "regular_workers",
                                                                  "managers_intermediate",
                                                                  "managers_higher"};
  return *columns;
}

namespace {

// One organisation record of the CSV, or the first problem found in it.
absl::StatusOr<v1::Organization> ParseOrganizationRecord(const CsvTable& table,
                                                         const CsvRecord& record) {
  if (absl::Status s = table.CheckWidth(record); !s.ok()) return s;
  v1::Organization organization;
  const std::string& code = table.Get(record, "registration_code");
  // The code is the row's idempotency key ("csv-" + code, at most 64 bytes).
  if (code.empty() || code.size() > 20) {
    return table.Error(record, "registration_code", "required, at most 20 characters");
  }
  organization.set_registration_code(code);

  v1::OrganizationKind kind = v1::ORGANIZATION_KIND_UNSPECIFIED;
  const std::string& kind_text = table.Get(record, "kind");
  if (!v1::OrganizationKind_Parse(
          absl::StrCat("ORGANIZATION_KIND_", absl::AsciiStrToUpper(kind_text)), &kind) ||
      kind == v1::ORGANIZATION_KIND_UNSPECIFIED) {
    return table.Error(record, "kind",
                       absl::StrCat("\"", kind_text, "\" is not HTX, LH_HTX or THT"));
  }
  organization.set_kind(kind);
  organization.set_display_name(table.Get(record, "display_name"));
  organization.set_commune(table.Get(record, "commune"));

  v1::Sector sector = v1::SECTOR_UNSPECIFIED;
  const std::string& sector_text = table.Get(record, "sector");
  if (!v1::Sector_Parse(absl::StrCat("SECTOR_", absl::AsciiStrToUpper(sector_text)), &sector) ||
      sector == v1::SECTOR_UNSPECIFIED) {
    return table.Error(record, "sector",
                       absl::StrCat("\"", sector_text,
                                    "\" is not one of AGRICULTURE, INDUSTRY_HANDICRAFT, "
                                    "CONSTRUCTION, CREDIT, TRADE, TRANSPORT, OTHER"));
  }
  organization.set_sector(sector);

  absl::StatusOr<type::v1::Date> founded =
      ParseIsoDate(table.Get(record, "founding_date"), "founding_date");
  if (!founded.ok()) return table.Error(record, "founding_date", founded.status().message());
  *organization.mutable_founding_date() = *founded;

  using Setter = void (v1::Organization::*)(int64_t);
  for (auto [column, set] :
       {std::pair<const char*, Setter>{"members", &v1::Organization::set_members},
        {"regular_workers", &v1::Organization::set_regular_workers},
        {"managers_intermediate", &v1::Organization::set_managers_intermediate},
        {"managers_higher", &v1::Organization::set_managers_higher}}) {
    const std::string& text = table.Get(record, column);
    int64_t value = 0;
    if (!text.empty() && (!absl::SimpleAtoi(text, &value) || value < 0)) {
      return table.Error(record, column, absl::StrCat("\"", text, "\" is not a whole number >= 0"));
    }
    (organization.*set)(value);
  }
  return organization;
}

}  // namespace

absl::StatusOr<OrganizationCsv> ParseOrganizationsCsv(absl::string_view csv_text,
                                                      absl::string_view source) {
  absl::StatusOr<CsvTable> table = CsvTable::Parse(csv_text, source, OrganizationCsvColumns());
  if (!table.ok()) return table.status();
  OrganizationCsv parsed;
  for (const CsvRecord& record : table->records()) {
    absl::StatusOr<v1::Organization> organization = ParseOrganizationRecord(*table, record);
    if (!organization.ok()) {
      parsed.problems.push_back(organization.status());
      continue;
    }
    v1::ImportRow& row = parsed.rows.emplace_back();
    row.set_request_id(absl::StrCat("csv-", organization->registration_code()));
    *row.mutable_organization() = *std::move(organization);
    parsed.lines.push_back(record.line);
  }
  return parsed;
}

// ---- Generated sample registry -------------------------------------------------
//
// How the sample is made. The generator plans each organisation's state at
// the end of five periods (up to 2022, 2023, 2024, 2025, first half of 2026)
// so that the year-end counts equal the targets below, then writes the
// lifecycle events that lead from one state to the next, dated inside the
// period, and the classifications of each year. Everything the counts depend
// on is decided by exact allocation, never left to chance; chance only
// decides who (which organisation, which commune, which day).

namespace {

constexpr int kSectors = 7;  // v1::Sector 1..7, in the order of Phụ lục II
constexpr int kPeriods = 5;

struct Period {
  int year;
  DayKey first;
  DayKey last;
};
// Period 0 is the history before the plan's years; period 4 stops well
// before today, so that no event is in the future.
constexpr Period kPeriod[kPeriods] = {{2022, 19970101, 20221231},
                                      {2023, 20230101, 20231231},
                                      {2024, 20240101, 20241231},
                                      {2025, 20250101, 20251231},
                                      {2026, 20260101, 20260630}};

using BySector = std::array<int, kSectors>;

// What one kind of organisation must add up to. Arrays indexed by period use
// -1 for "no target".
struct KindTargets {
  v1::OrganizationKind kind;
  // Stock by sector at the end of 2023, 2024 and 2025 (Phụ lục II).
  std::array<BySector, 3> stock;
  // Established in 2023 and in the first half of 2026 (sample choices). Those
  // of 2024 and 2025 follow from the stocks and the dissolutions.
  int established_2023;
  int established_2026;
  // Dissolved per period ([0] unused).
  std::array<int, kPeriods> dissolved;
  // Active at the end of the period.
  std::array<int, kPeriods> active;
  // Rated good or fair for the period's year.
  std::array<int, kPeriods> good_or_fair;
};

// HTX: Phụ lục II rows 1.1-1.7; Phụ lục I rows I.1.a (active), I.1.c
// (dissolved) and I.1.d (good+fair) for 2024 and 2025, from which I.1.b
// (149, 250) follows. The document gives no flows, activity or ratings for
// 2023, nor anything for 2026: those figures are sample choices.
const KindTargets kHtxTargets = {
    v1::ORGANIZATION_KIND_HTX,
    {{{1483, 322, 23, 98, 328, 227, 57},
      {1561, 329, 23, 98, 357, 245, 62},
      {1693, 344, 23, 98, 412, 276, 66}}},
    /*established_2023=*/120,
    /*established_2026=*/70,
    /*dissolved=*/{0, 15, 12, 13, 20},
    /*active=*/{-1, 2195, 2330, 2441, -1},
    /*good_or_fair=*/{-1, 1460, 1515, 1587, -1},
};

// LH HTX: Phụ lục II rows 2.1-2.7 and Phụ lục I row II.1.a (active); the
// ratings are sample choices (the document has no row for them). The
// document breaks stock and flow for 2024: 23 + 3 established - 1 dissolved
// is 25, yet 26 is printed in both appendices. The per-sector stocks win;
// their growth (+1 agriculture, +2 trade) is exactly the 3 establishments of
// row II.1.b, so the sample keeps those and dissolves no LH HTX in 2024:
// row II.1.c (1) is the figure it does not reproduce.
const KindTargets kUnionTargets = {
    v1::ORGANIZATION_KIND_LH_HTX,
    {{{7, 1, 2, 0, 10, 3, 0}, {8, 1, 2, 0, 12, 3, 0}, {8, 1, 2, 0, 13, 3, 0}}},
    /*established_2023=*/1,
    /*established_2026=*/1,
    /*dissolved=*/{0, 0, 0, 0, 0},
    /*active=*/{-1, 17, 18, 22, -1},
    /*good_or_fair=*/{-1, 9, 10, 12, -1},
};

// HTX that are members of an LH HTX at the end of each period (Phụ lục I row
// II.2: 136 in 2024, 140 in 2025), and how many leave in each period.
constexpr std::array<int, kPeriods> kMemberHtx = {126, 130, 136, 140, 141};
constexpr std::array<int, kPeriods> kLeavingHtx = {0, 1, 2, 3, 1};

// Sums over the HTX stock on 31/12/2025 (Phụ lục I, estimate 2025): rows
// I.2, I.3, I.4.a, I.4.b.
struct Attribute {
  int64_t target;
  int64_t minimum;  // per HTX (the law asks for at least 5 members; the sample uses 7)
  BySector base;    // relative size per sector
  void (v1::Organization::*set)(int64_t);
};
const Attribute kHtxAttributes[] = {
    {617414, 7, {330, 30, 18, 1300, 25, 45, 20}, &v1::Organization::set_members},
    {61890, 1, {14, 35, 30, 9, 18, 45, 14}, &v1::Organization::set_regular_workers},
    {6940, 0, {3, 2, 2, 4, 2, 2, 2}, &v1::Organization::set_managers_intermediate},
    {3209, 0, {2, 2, 3, 6, 3, 2, 2}, &v1::Organization::set_managers_higher},
};

constexpr int kWards = 51;      // Hà Nội after 1/7/2025: 51 wards...
constexpr int kCommunes = 126;  // ...and 75 communes

// Former districts, only to make the sample names read like Hà Nội's.
constexpr const char* kUrbanAreas[] = {
    "Ba Đình",   "Hoàn Kiếm",  "Tây Hồ",      "Long Biên",   "Cầu Giấy", "Đống Đa", "Hai Bà Trưng",
    "Hoàng Mai", "Thanh Xuân", "Nam Từ Liêm", "Bắc Từ Liêm", "Hà Đông",  "Sơn Tây"};
constexpr const char* kRuralAreas[] = {
    "Sóc Sơn",   "Đông Anh",   "Gia Lâm",   "Thanh Trì", "Mê Linh",    "Ba Vì",
    "Phúc Thọ",  "Đan Phượng", "Hoài Đức",  "Quốc Oai",  "Thạch Thất", "Chương Mỹ",
    "Thanh Oai", "Thường Tín", "Phú Xuyên", "Ứng Hòa",   "Mỹ Đức"};

// Name stems by sector (index sector-1); every one says "mẫu".
constexpr const char* kHtxStems[kSectors][2] = {
    {"Hợp tác xã nông nghiệp mẫu", "Hợp tác xã dịch vụ nông nghiệp mẫu"},
    {"Hợp tác xã tiểu thủ công nghiệp mẫu", "Hợp tác xã làng nghề mẫu"},
    {"Hợp tác xã xây dựng mẫu", "Hợp tác xã xây dựng và dịch vụ mẫu"},
    {"Quỹ tín dụng nhân dân mẫu", "Quỹ tín dụng nhân dân mẫu"},
    {"Hợp tác xã thương mại dịch vụ mẫu", "Hợp tác xã kinh doanh chợ mẫu"},
    {"Hợp tác xã vận tải mẫu", "Hợp tác xã dịch vụ vận tải mẫu"},
    {"Hợp tác xã dịch vụ môi trường mẫu", "Hợp tác xã dịch vụ tổng hợp mẫu"}};
constexpr const char* kUnionStems[kSectors] = {
    "Liên hiệp hợp tác xã nông nghiệp mẫu", "Liên hiệp hợp tác xã tiểu thủ công nghiệp mẫu",
    "Liên hiệp hợp tác xã xây dựng mẫu",    "Liên hiệp quỹ tín dụng mẫu",
    "Liên hiệp hợp tác xã thương mại mẫu",  "Liên hiệp hợp tác xã vận tải mẫu",
    "Liên hiệp hợp tác xã dịch vụ mẫu"};
// Share of each sector's organisations located in a rural commune (xã)
// rather than an urban ward.
constexpr double kRuralShare[kSectors] = {0.92, 0.65, 0.45, 0.75, 0.35, 0.5, 0.5};

// std::mt19937 is specified to the bit; the standard distributions are not,
// so the few needed are written here and a seed gives the same sample with
// every standard library.
class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  // Uniform in [0, n), n > 0.
  int Below(int n) {
    return static_cast<int>((static_cast<uint64_t>(engine_()) * static_cast<uint64_t>(n)) >> 32);
  }
  int Between(int lo, int hi) { return lo + Below(hi - lo + 1); }
  double Unit() { return engine_() / 4294967296.0; }
  bool Chance(double p) { return Unit() < p; }
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[static_cast<size_t>(Below(static_cast<int>(i)))]);
    }
  }

 private:
  std::mt19937 engine_;
};

absl::CivilDay ToCivil(DayKey key) {
  return absl::CivilDay(key / 10000, key / 100 % 100, key % 100);
}
DayKey FromCivil(absl::CivilDay day) {
  return static_cast<DayKey>(day.year() * 10000 + day.month() * 100 + day.day());
}
DayKey AddDays(DayKey key, int days) { return FromCivil(ToCivil(key) + days); }
DayKey RandomDay(Random& random, DayKey lo, DayKey hi) {
  return AddDays(lo, random.Between(0, static_cast<int>(ToCivil(hi) - ToCivil(lo))));
}

// Splits `total` in proportion to `weights` (largest remainder, ties to the
// lower index), so that the parts add up exactly.
std::vector<int64_t> Apportion(int64_t total, const std::vector<double>& weights) {
  std::vector<int64_t> parts(weights.size(), 0);
  double sum = 0;
  for (double w : weights) sum += w;
  if (total <= 0 || sum <= 0) return parts;
  std::vector<std::pair<double, size_t>> remainders;
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double exact = static_cast<double>(total) * weights[i] / sum;
    parts[i] = static_cast<int64_t>(exact);
    given += parts[i];
    remainders.emplace_back(exact - static_cast<double>(parts[i]), i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < total; k = (k + 1) % remainders.size(), ++given) {
    ++parts[remainders[k].second];
  }
  return parts;
}

BySector ApportionBySector(int total, const BySector& weights) {
  std::vector<int64_t> parts =
      Apportion(total, std::vector<double>(weights.begin(), weights.end()));
  BySector result{};
  for (int s = 0; s < kSectors; ++s) result[s] = static_cast<int>(parts[s]);
  return result;
}

// Establishments and dissolutions by period and sector.
struct Flows {
  BySector before_2023{};  // in stock at the end of 2022
  std::array<BySector, kPeriods> established{};
  std::array<BySector, kPeriods> dissolved{};
};

Flows PlanFlows(const KindTargets& t) {
  Flows flows;
  // New organisations go where the sector grows; dissolutions fall in
  // proportion to the stock.
  BySector growth{};
  for (int s = 0; s < kSectors; ++s) {
    growth[s] = t.stock[2][s] == 0 ? 0 : t.stock[2][s] - t.stock[0][s] + 1;
  }
  flows.established[1] = ApportionBySector(t.established_2023, growth);
  flows.dissolved[1] = ApportionBySector(t.dissolved[1], t.stock[0]);
  for (int s = 0; s < kSectors; ++s) {
    flows.before_2023[s] = t.stock[0][s] - flows.established[1][s] + flows.dissolved[1][s];
  }
  // 2024 and 2025: a sector that shrinks needs at least that many
  // dissolutions; the rest are spread by stock. Establishments then make up
  // the difference, so stock(y) = stock(y-1) + established - dissolved.
  for (int p = 2; p <= 3; ++p) {
    BySector floor{};
    int spread = t.dissolved[p];
    for (int s = 0; s < kSectors; ++s) {
      floor[s] = std::max(0, t.stock[p - 2][s] - t.stock[p - 1][s]);
      spread -= floor[s];
    }
    BySector extra = ApportionBySector(spread, t.stock[p - 2]);
    for (int s = 0; s < kSectors; ++s) {
      flows.dissolved[p][s] = floor[s] + extra[s];
      flows.established[p][s] = t.stock[p - 1][s] - t.stock[p - 2][s] + flows.dissolved[p][s];
    }
  }
  flows.established[4] = ApportionBySector(t.established_2026, growth);
  flows.dissolved[4] = ApportionBySector(t.dissolved[4], t.stock[2]);
  return flows;
}

using State = v1::OrganizationStatus;
constexpr State kNone = v1::ORGANIZATION_STATUS_UNSPECIFIED;
constexpr State kActive = v1::ORGANIZATION_STATUS_ACTIVE;
constexpr State kSuspended = v1::ORGANIZATION_STATUS_SUSPENDED;
constexpr State kNotOperating = v1::ORGANIZATION_STATUS_NOT_OPERATING;
constexpr State kDissolving = v1::ORGANIZATION_STATUS_DISSOLVING;
constexpr State kDissolved = v1::ORGANIZATION_STATUS_DISSOLVED;

bool InStock(State state) { return state != kNone && state != kDissolved; }

// One organisation of the sample while it is being planned.
struct Planned {
  v1::OrganizationKind kind;
  int sector;  // 0..6
  int founded_period;
  DayKey founded;
  int dissolved_period = 0;             // 1..4; 0 = never
  std::array<State, kPeriods> state{};  // at the end of each period
  double quality = 0;                   // drives the ratings, 0..100
  int commune = 0;                      // index into the sample units
  std::vector<v1::LifecycleEvent> events;
  std::vector<v1::Classification> classifications;
  int union_members = 0;  // for an LH HTX: member HTX at the end
  std::string name;       // resource name, once the code is drawn
  v1::Organization organization;
};

// The status the organisation starts period p in.
State StartOf(const Planned& org, int p) {
  if (org.founded_period > p) return kNone;
  if (org.founded_period == p || p == 0) return kActive;
  return org.state[p - 1];
}

// The events leading from `from` to `to`, oldest first.
std::vector<std::pair<v1::EventType, v1::DissolutionKind>> Path(State from, State to) {
  using E = v1::EventType;
  constexpr v1::DissolutionKind kNoKind = v1::DISSOLUTION_KIND_UNSPECIFIED;
  if (from == to || from == kNone) return {};
  switch (to) {
    case kActive:
      return {{E::EVENT_TYPE_RESUMED, kNoKind}};
    case kSuspended:
      if (from == kNotOperating) {
        return {{E::EVENT_TYPE_RESUMED, kNoKind}, {E::EVENT_TYPE_SUSPENDED, kNoKind}};
      }
      return {{E::EVENT_TYPE_SUSPENDED, kNoKind}};
    case kNotOperating:
      return {{E::EVENT_TYPE_REPORTED_NOT_OPERATING, kNoKind}};
    case kDissolving:
      return {{E::EVENT_TYPE_DISSOLUTION_STARTED, kNoKind}};
    case kDissolved:
      if (from == kNotOperating) {  // no longer operating: dissolved by decision
        return {{E::EVENT_TYPE_DISSOLVED, v1::DISSOLUTION_KIND_COMPULSORY}};
      }
      if (from == kDissolving) {
        return {{E::EVENT_TYPE_DISSOLVED, v1::DISSOLUTION_KIND_VOLUNTARY}};
      }
      return {{E::EVENT_TYPE_DISSOLUTION_STARTED, kNoKind},
              {E::EVENT_TYPE_DISSOLVED, v1::DISSOLUTION_KIND_VOLUNTARY}};
    default:
      return {};
  }
}

constexpr const char* kSampleNote = " (dữ liệu mẫu)";

const char* NoteFor(v1::EventType type) {
  switch (type) {
    case v1::EVENT_TYPE_SUSPENDED:
      return "Thông báo tạm ngừng kinh doanh";
    case v1::EVENT_TYPE_RESUMED:
      return "Thông báo hoạt động trở lại";
    case v1::EVENT_TYPE_REPORTED_NOT_OPERATING:
      return "Rà soát: không hoạt động tại địa chỉ đăng ký";
    case v1::EVENT_TYPE_REORGANIZED:
      return "Tổ chức lại (sáp nhập, chia, tách)";
    case v1::EVENT_TYPE_DISSOLUTION_STARTED:
      return "Nghị quyết giải thể của đại hội thành viên";
    case v1::EVENT_TYPE_DISSOLVED:
      return "Thu hồi giấy chứng nhận đăng ký";
    case v1::EVENT_TYPE_JOINED_UNION:
      return "Kết nạp thành viên liên hiệp";
    case v1::EVENT_TYPE_LEFT_UNION:
      return "Ra khỏi liên hiệp";
    default:
      return "";
  }
}

void AddEvent(Planned& org, v1::EventType type, DayKey day,
              v1::DissolutionKind kind = v1::DISSOLUTION_KIND_UNSPECIFIED,
              absl::string_view union_name = "") {
  v1::LifecycleEvent& event = org.events.emplace_back();
  event.set_type(type);
  *event.mutable_effective_date() = FromDayKey(day);
  event.set_dissolution_kind(kind);
  event.set_union_(std::string(union_name));
  event.set_note(absl::StrCat(NoteFor(type), kSampleNote));
}

// The days inside period p on which org can have events.
std::pair<DayKey, DayKey> Window(const Planned& org, int p) {
  // Trouble before 2023 starts at least a year after founding.
  const DayKey lo = p == 0 ? std::max(AddDays(org.founded, 365), DayKey{20180101})
                           : std::max(kPeriod[p].first, AddDays(org.founded, 1));
  return {std::min(lo, kPeriod[p].last), kPeriod[p].last};
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : random_(seed) {}

  SampleRegistry Run() {
    MakeCommunes();
    for (const KindTargets* targets : {&kUnionTargets, &kHtxTargets}) {
      const Flows flows = PlanFlows(*targets);
      const size_t first = orgs_.size();
      PlanOrganizations(*targets, flows);
      std::vector<Planned*> kind;
      for (size_t i = first; i < orgs_.size(); ++i) kind.push_back(&orgs_[i]);
      PlanDissolutions(kind, flows);
      PlanStates(kind, *targets);
      for (Planned* org : kind) WriteLifecycle(*org);
      for (int p = 1; p <= 3; ++p) Rate(kind, p, targets->good_or_fair[p]);
    }
    NameOrganizations();
    PlanUnions();
    for (Planned& org : orgs_) {
      std::stable_sort(org.events.begin(), org.events.end(), [](const auto& a, const auto& b) {
        return ToDayKey(a.effective_date()) < ToDayKey(b.effective_date());
      });
    }
    SetAttributes();
    return Emit();
  }

 private:
  void MakeCommunes() {
    for (int i = 0; i < kCommunes; ++i) {
      const bool ward = i < kWards;
      v1::Unit& unit = result_.units.emplace_back();
      unit.set_name(absl::StrFormat("provinces/01/communes/%05d", i + 1));
      unit.set_kind(ward ? v1::UNIT_KIND_WARD : v1::UNIT_KIND_COMMUNE);
      unit.set_display_name(
          absl::StrFormat("%s mẫu %03d (dữ liệu mẫu)", ward ? "Phường" : "Xã", i + 1));
      *unit.mutable_valid_from() = FromDayKey(kReformDay);
      unit.set_sample(true);
      area_.push_back(ward ? kUrbanAreas[i % std::size(kUrbanAreas)]
                           : kRuralAreas[(i - kWards) % std::size(kRuralAreas)]);
      // Some places have many more cooperatives than others.
      commune_weight_.push_back(0.3 + 2.0 * random_.Unit());
    }
    // The bodies that supply parts of a provincial plan report as agencies.
    static constexpr std::pair<const char*, const char*> kAgencies[] = {
        {"so-tai-chinh", "Sở Tài chính"},
        {"so-nong-nghiep-moi-truong", "Sở Nông nghiệp và Môi trường"},
        {"so-cong-thuong", "Sở Công Thương"},
        {"so-khoa-hoc-cong-nghe", "Sở Khoa học và Công nghệ"},
        {"ngan-hang-nha-nuoc", "Ngân hàng Nhà nước chi nhánh khu vực"},
        {"thue", "Thuế thành phố"},
        {"lien-minh-htx", "Liên minh Hợp tác xã thành phố"},
    };
    for (const auto& [id, name] : kAgencies) {
      v1::Unit& unit = result_.units.emplace_back();
      unit.set_name(absl::StrCat("provinces/01/agencies/", id));
      unit.set_kind(v1::UNIT_KIND_AGENCY);
      unit.set_display_name(absl::StrCat(name, " (dữ liệu mẫu)"));
      *unit.mutable_valid_from() = FromDayKey(kReformDay);
      unit.set_sample(true);
    }
  }

  int PickCommune(bool rural) {
    const int lo = rural ? kWards : 0, hi = rural ? kCommunes : kWards;
    double sum = 0;
    for (int i = lo; i < hi; ++i) sum += commune_weight_[i];
    double x = random_.Unit() * sum;
    for (int i = lo; i < hi; ++i) {
      x -= commune_weight_[i];
      if (x < 0) return i;
    }
    return hi - 1;
  }

  DayKey FoundingDay(v1::OrganizationKind kind, int sector, int period) {
    if (period > 0) return RandomDay(random_, kPeriod[period].first, kPeriod[period].last);
    // Before 2023: many agricultural cooperatives and credit funds date from
    // the 1997 law's conversions; trade, transport and the rest are younger.
    const double skew = kind == v1::ORGANIZATION_KIND_LH_HTX ? 1.0
                        : sector == 0                        ? 0.6
                        : sector == 3                        ? 0.3
                                                             : 1.5;
    const int first_year = kind == v1::ORGANIZATION_KIND_LH_HTX ? 2002 : 1997;
    const int years = 2022 - first_year + 1;
    const int year =
        first_year + std::min(years - 1, static_cast<int>(years * std::pow(random_.Unit(), skew)));
    return RandomDay(random_, year * 10000 + 101, year * 10000 + 1231);
  }

  void PlanOrganizations(const KindTargets& targets, const Flows& flows) {
    for (int s = 0; s < kSectors; ++s) {
      for (int p = 0; p < kPeriods; ++p) {
        const int count = p == 0 ? flows.before_2023[s] : flows.established[p][s];
        for (int i = 0; i < count; ++i) {
          Planned& org = orgs_.emplace_back();
          org.kind = targets.kind;
          org.sector = s;
          org.founded_period = p;
          org.founded = FoundingDay(targets.kind, s, p);
          org.quality = 50.0 * (random_.Unit() + random_.Unit());
          org.commune = PickCommune(
              random_.Chance(targets.kind == v1::ORGANIZATION_KIND_LH_HTX ? 0.3 : kRuralShare[s]));
        }
      }
    }
  }

  // Dissolved organisations are drawn from the weaker, older ones of their
  // sector.
  void PlanDissolutions(const std::vector<Planned*>& kind, const Flows& flows) {
    for (int p = 1; p < kPeriods; ++p) {
      for (int s = 0; s < kSectors; ++s) {
        std::vector<Planned*> pool;
        for (Planned* org : kind) {
          if (org->sector == s && org->dissolved_period == 0 && org->founded_period < p &&
              org->founded <= AddDays(kPeriod[p].first, -730)) {
            pool.push_back(org);
          }
        }
        std::stable_sort(pool.begin(), pool.end(), [](const Planned* a, const Planned* b) {
          return a->quality < b->quality;
        });
        const int need = flows.dissolved[p][s];
        pool.resize(std::min(pool.size(), static_cast<size_t>(3 * need)));
        random_.Shuffle(pool);
        for (int i = 0; i < need && i < static_cast<int>(pool.size()); ++i) {
          pool[i]->dissolved_period = p;
        }
      }
    }
  }

  // Year-end states: a sticky drift between active and not, then exact
  // correction to the period's active target.
  void PlanStates(const std::vector<Planned*>& kind, const KindTargets& targets) {
    for (int p = 0; p < kPeriods; ++p) {
      std::vector<Planned*> may_stop, may_resume;
      int active = 0;
      for (Planned* org : kind) {
        State& state = org->state[p];
        const State start = StartOf(*org, p);
        if (start == kNone) {
          state = kNone;
        } else if (org->dissolved_period != 0 && org->dissolved_period <= p) {
          state = kDissolved;
        } else if ((p > 0 && org->founded_period == p) || (p == 0 && org->founded > 20201231)) {
          state = kActive;  // too young for trouble
        } else {
          state = Drift(start, org->dissolved_period == p + 1, p);
          if (state == kActive) may_stop.push_back(org);
          if (state == kSuspended || state == kNotOperating) may_resume.push_back(org);
        }
        active += state == kActive;
      }
      const int target = targets.active[p];
      if (target < 0) continue;
      random_.Shuffle(may_stop);
      random_.Shuffle(may_resume);
      for (size_t i = 0; active > target && i < may_stop.size(); ++i, --active) {
        may_stop[i]->state[p] = random_.Chance(0.5) ? kSuspended : kNotOperating;
      }
      for (size_t i = 0; active < target && i < may_resume.size(); ++i, ++active) {
        may_resume[i]->state[p] = kActive;
      }
    }
  }

  State Drift(State start, bool dissolved_next, int p) {
    if (dissolved_next && p < kPeriods - 1) {
      // Most organisations dissolved next year are already winding down.
      const double x = random_.Unit();
      if (x < 0.35) return kDissolving;
      if (x < 0.75) return start == kActive ? kNotOperating : start;
    }
    switch (start) {
      case kActive:
        if (!random_.Chance(p == 0 ? 0.06 : 0.04)) return kActive;
        return random_.Chance(0.5) ? kSuspended : kNotOperating;
      case kSuspended:
        if (random_.Chance(0.25)) return kActive;
        return random_.Chance(0.2) ? kNotOperating : kSuspended;
      case kNotOperating:
        return random_.Chance(0.12) ? kActive : kNotOperating;
      default:
        return start;
    }
  }

  // The events between consecutive year-end states, plus some that leave the
  // state unchanged: a short suspension, a reorganisation.
  void WriteLifecycle(Planned& org) {
    for (int p = 0; p < kPeriods; ++p) {
      const State start = StartOf(org, p);
      if (start == kNone) continue;
      const auto [lo, hi] = Window(org, p);
      const auto path = Path(start, org.state[p]);
      std::vector<DayKey> days;
      for (size_t i = 0; i < path.size(); ++i) days.push_back(RandomDay(random_, lo, hi));
      std::sort(days.begin(), days.end());
      for (size_t i = 0; i < path.size(); ++i) {
        AddEvent(org, path[i].first, days[i], path[i].second);
      }
      const bool quiet_year =
          p > 0 && org.founded_period < p && start == kActive && org.state[p] == kActive;
      if (quiet_year && random_.Chance(0.025)) {
        const DayKey stop = RandomDay(random_, lo, AddDays(hi, -60));
        AddEvent(org, v1::EVENT_TYPE_SUSPENDED, stop);
        AddEvent(org, v1::EVENT_TYPE_RESUMED, RandomDay(random_, AddDays(stop, 30), hi));
      } else if (quiet_year && p < kPeriods - 1 && random_.Chance(0.005)) {
        AddEvent(org, v1::EVENT_TYPE_REORGANIZED, RandomDay(random_, lo, hi));
      }
    }
  }

  // Classifications for period p's year among the stock at its end: the
  // newly founded are NOT_RATED (under 12 months); of the active others the
  // best `good_or_fair` are good or fair, the rest average or weak; of the
  // inactive ones some are rated weak and the others not classified.
  void Rate(const std::vector<Planned*>& kind, int p, int good_or_fair) {
    const int year = kPeriod[p].year;
    std::vector<std::pair<double, Planned*>> ranked;
    for (Planned* org : kind) {
      const State state = org->state[p];
      if (!InStock(state)) continue;
      if (org->founded_period == p) {
        v1::Classification& c = org->classifications.emplace_back();
        c.set_year(year);
        c.set_rating(v1::RATING_NOT_RATED);
      } else if (state == kActive) {
        ranked.emplace_back(org->quality + random_.Between(-8, 8), org);
      } else if (random_.Chance(0.5)) {
        Classify(*org, year, 15, 49);
      }
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    const int top = good_or_fair >= 0 ? good_or_fair : static_cast<int>(ranked.size() * 55 / 100);
    const int good = top * 2 / 5;
    for (int i = 0; i < static_cast<int>(ranked.size()); ++i) {
      Planned& org = *ranked[i].second;
      if (i < good) {
        Classify(org, year, 80, 98);
      } else if (i < top) {
        Classify(org, year, 65, 79);
      } else if (random_.Chance(0.75)) {
        Classify(org, year, 50, 64);
      } else {
        Classify(org, year, 30, 49);
      }
    }
  }

  void Classify(Planned& org, int year, int min_score, int max_score) {
    v1::Classification& c = org.classifications.emplace_back();
    c.set_year(year);
    c.set_score(random_.Between(min_score, max_score));
    c.set_rating(RatingForScore(c.score()));
  }

  // Registration codes, names and resource names; LH HTX first, each kind
  // oldest first, so that sample numbers read in founding order.
  void NameOrganizations() {
    std::stable_sort(orgs_.begin(), orgs_.end(), [](const Planned& a, const Planned& b) {
      if (a.kind != b.kind) return a.kind == v1::ORGANIZATION_KIND_LH_HTX;
      return a.founded < b.founded;
    });
    std::set<std::string> codes;
    for (size_t i = 0; i < orgs_.size(); ++i) {
      Planned& org = orgs_[i];
      std::string code;
      do {
        code = absl::StrFormat("01%08d", random_.Below(100000000));
      } while (!codes.insert(code).second);
      v1::Organization& o = org.organization;
      o.set_registration_code(code);
      o.set_kind(org.kind);
      const char* stem = org.kind == v1::ORGANIZATION_KIND_LH_HTX
                             ? kUnionStems[org.sector]
                             : kHtxStems[org.sector][random_.Below(2)];
      o.set_display_name(absl::StrFormat("%s %s %04d (dữ liệu mẫu)", stem, area_[org.commune],
                                         static_cast<int>(i + 1)));
      o.set_commune(result_.units[org.commune].name());
      o.set_sector(static_cast<v1::Sector>(org.sector + 1));
      *o.mutable_founding_date() = FromDayKey(org.founded);
      org.name = OrganizationName("01", code);
    }
  }

  // HTX join LH HTX (preferably of their own sector) so that the members at
  // the end of each period match kMemberHtx; some leave. Only HTX that are
  // never dissolved take part, so membership events always find them
  // operating, and no LH HTX of the sample is dissolved.
  void PlanUnions() {
    std::vector<Planned*> unions, candidates;
    for (Planned& org : orgs_) {
      if (org.dissolved_period != 0) continue;
      (org.kind == v1::ORGANIZATION_KIND_LH_HTX ? unions : candidates).push_back(&org);
    }
    struct Membership {
      Planned* member;
      Planned* lh;
      DayKey joined;
    };
    std::vector<Membership> current;
    std::set<const Planned*> ever_joined;
    for (int p = 0; p < kPeriods; ++p) {
      const auto [first, last] =
          std::pair{p == 0 ? DayKey{20050101} : kPeriod[p].first, kPeriod[p].last};
      // Members of earlier periods may leave.
      random_.Shuffle(current);
      std::stable_partition(current.begin(), current.end(),
                            [&](const Membership& m) { return m.joined >= first; });
      for (int left = 0; left < kLeavingHtx[p] && !current.empty() && current.back().joined < first;
           ++left) {
        AddEvent(*current.back().member, v1::EVENT_TYPE_LEFT_UNION,
                 RandomDay(random_, first, last));
        current.pop_back();
      }
      const DayKey latest_founding = AddDays(last, -30);
      std::vector<Planned*> open;
      for (Planned* lh : unions) {
        if (lh->founded <= latest_founding) open.push_back(lh);
      }
      while (static_cast<int>(current.size()) < kMemberHtx[p]) {
        Planned* lh = open[static_cast<size_t>(random_.Below(static_cast<int>(open.size())))];
        std::vector<Planned*> same_sector, any_sector;
        for (Planned* htx : candidates) {
          if (ever_joined.count(htx) > 0 || htx->founded > latest_founding) continue;
          any_sector.push_back(htx);
          if (htx->sector == lh->sector) same_sector.push_back(htx);
        }
        const std::vector<Planned*>& pool = same_sector.empty() ? any_sector : same_sector;
        Planned* htx = pool[static_cast<size_t>(random_.Below(static_cast<int>(pool.size())))];
        const DayKey lo = std::max({first, AddDays(lh->founded, 1), AddDays(htx->founded, 1)});
        const DayKey day = RandomDay(random_, lo, last);
        AddEvent(*htx, v1::EVENT_TYPE_JOINED_UNION, day, v1::DISSOLUTION_KIND_UNSPECIFIED,
                 lh->name);
        ever_joined.insert(htx);
        current.push_back({htx, lh, day});
      }
    }
    for (const Membership& m : current) ++m.lh->union_members;
  }

  // Attribute sums over the HTX stock of 31/12/2025 are exact: each sum minus
  // the minimums is split in proportion to per-HTX sizes. Organisations
  // outside that stock get values on the same scale.
  void SetAttributes() {
    std::vector<Planned*> stock, others;
    for (Planned& org : orgs_) {
      if (org.kind == v1::ORGANIZATION_KIND_LH_HTX) {
        org.organization.set_members(org.union_members);
        org.organization.set_regular_workers(random_.Between(4, 30));
        org.organization.set_managers_intermediate(random_.Between(1, 4));
        org.organization.set_managers_higher(random_.Between(1, 3));
        continue;
      }
      (InStock(org.state[3]) ? stock : others).push_back(&org);
    }
    for (const Attribute& attribute : kHtxAttributes) {
      std::vector<double> sizes;
      double total_size = 0;
      for (Planned* org : stock) {
        sizes.push_back(attribute.base[org->sector] * (0.2 + 1.6 * random_.Unit()));
        total_size += sizes.back();
      }
      const int64_t spread =
          attribute.target - attribute.minimum * static_cast<int64_t>(stock.size());
      std::vector<int64_t> shares = Apportion(spread, sizes);
      for (size_t i = 0; i < stock.size(); ++i) {
        (stock[i]->organization.*attribute.set)(attribute.minimum + shares[i]);
      }
      const double per_size = static_cast<double>(spread) / total_size;
      for (Planned* org : others) {
        const double size = attribute.base[org->sector] * (0.2 + 1.6 * random_.Unit());
        (org->organization.*attribute.set)(attribute.minimum +
                                           static_cast<int64_t>(size * per_size + 0.5));
      }
    }
    for (Planned& org : orgs_) {
      v1::OrganizationFlags& flags = *org.organization.mutable_flags();
      const bool farm = org.sector == 0;
      flags.set_high_tech(random_.Chance(farm ? 0.04 : 0.01));
      flags.set_value_chain_link(random_.Chance(farm ? 0.18 : 0.04));
      flags.set_owns_enterprise(random_.Chance(0.015));
      flags.set_enterprise_members(random_.Chance(0.025));
      flags.set_foreign_members(random_.Chance(0.004));
    }
  }

  // Rows: organisations, then every event in date order (each
  // organisation's own order kept), then classifications by year.
  SampleRegistry Emit() {
    std::vector<v1::ImportRow>& rows = result_.rows;
    for (size_t i = 0; i < orgs_.size(); ++i) {
      v1::ImportRow& row = rows.emplace_back();
      *row.mutable_organization() = orgs_[i].organization;
      row.set_request_id(absl::StrFormat("sample-01-org-%04d", static_cast<int>(i + 1)));
    }
    std::vector<std::pair<const Planned*, const v1::LifecycleEvent*>> events;
    for (const Planned& org : orgs_) {
      for (const v1::LifecycleEvent& event : org.events) events.emplace_back(&org, &event);
    }
    std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
      return ToDayKey(a.second->effective_date()) < ToDayKey(b.second->effective_date());
    });
    int number = 0;
    for (const auto& [org, event] : events) {
      v1::ImportRow& row = rows.emplace_back();
      row.set_parent(org->name);
      *row.mutable_event() = *event;
      row.set_request_id(absl::StrFormat("sample-01-ev-%06d", ++number));
    }
    number = 0;
    for (int p = 1; p <= 3; ++p) {
      for (const Planned& org : orgs_) {
        for (const v1::Classification& c : org.classifications) {
          if (c.year() != kPeriod[p].year) continue;
          v1::ImportRow& row = rows.emplace_back();
          row.set_parent(org.name);
          *row.mutable_classification() = c;
          row.set_request_id(absl::StrFormat("sample-01-cls-%06d", ++number));
        }
      }
    }
    return std::move(result_);
  }

  Random random_;
  SampleRegistry result_;
  std::vector<const char*> area_;       // per commune
  std::vector<double> commune_weight_;  // per commune
  std::vector<Planned> orgs_;
};

}  // namespace

SampleRegistry GenerateHanoiSample(uint32_t seed) { return Generator(seed).Run(); }

}  // namespace htx::registry
