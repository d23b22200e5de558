#include "services/indicator/indicator_logic.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"

namespace htx::indicator {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr int kMaxDecimals = 6;
constexpr int kMaxIntegerDigits = 24;  // magnitude below 10^24
constexpr int kPercentDecimals = 2;

u128 Pow10(int n) {
  u128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}
const u128 kScale = Pow10(kMaxDecimals);

u128 Magnitude(i128 v) { return v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v); }

// ---- 256-bit helpers for the rare products that do not fit 128 bits --------

struct U256 {
  u128 hi = 0;
  u128 lo = 0;
};

U256 Mul(u128 a, u128 b) {
  const u128 mask = (static_cast<u128>(1) << 64) - 1;
  const u128 a0 = a & mask, a1 = a >> 64, b0 = b & mask, b1 = b >> 64;
  const u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const u128 mid = (p00 >> 64) + (p01 & mask) + (p10 & mask);
  return U256{p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64), (mid << 64) | (p00 & mask)};
}

// round(n / d) half away from zero; saturates at 2^127 - 1.
u128 DivRound(U256 n, u128 d) {
  U256 q;
  u128 r = 0;
  for (int i = 255; i >= 0; --i) {
    const bool carry = (r >> 127) != 0;
    const u128 bit = i >= 128 ? (n.hi >> (i - 128)) & 1 : (n.lo >> i) & 1;
    r = (r << 1) | bit;
    if (carry || r >= d) {
      r -= d;
      if (i >= 128) {
        q.hi |= static_cast<u128>(1) << (i - 128);
      } else {
        q.lo |= static_cast<u128>(1) << i;
      }
    }
  }
  const u128 kMax = static_cast<u128>(std::numeric_limits<i128>::max());
  if (q.hi != 0 || q.lo > kMax) return kMax;
  if (r >= d - r) ++q.lo;
  return q.lo;
}

// round(a × b ÷ d) half away from zero, exact for every operand in range.
i128 MulDivRound(i128 a, i128 b, i128 d) {
  const bool negative = ((a < 0) != (b < 0)) != (d < 0);
  const u128 ma = Magnitude(a), mb = Magnitude(b), md = Magnitude(d);
  u128 q;
  if (mb == 0 || ma <= std::numeric_limits<u128>::max() / mb) {
    const u128 p = ma * mb;
    q = p / md;
    const u128 r = p % md;
    if (r >= md - r) ++q;
    q = std::min(q, static_cast<u128>(std::numeric_limits<i128>::max()));
  } else {
    q = DivRound(Mul(ma, mb), md);
  }
  return negative ? -static_cast<i128>(q) : static_cast<i128>(q);
}

std::string U128ToString(u128 v) {
  if (v == 0) return "0";
  std::string out;
  while (v > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}
bool IsCodeChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}
bool IsIdChar(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || c == '-'; }
bool ValidCode(absl::string_view code) {
  return !code.empty() && code.size() <= 32 && std::all_of(code.begin(), code.end(), IsCodeChar);
}
bool ValidId(absl::string_view id, size_t max) {
  return !id.empty() && id.size() <= max && std::all_of(id.begin(), id.end(), IsIdChar);
}

std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", text.size() > 60 ? absl::StrCat(text.substr(0, 60), "...") : text,
                      "\"");
}

std::string Sub(absl::string_view field, absl::string_view member) {
  return field.empty() ? std::string(member) : absl::StrCat(field, ".", member);
}

// ---- Dates and columns -------------------------------------------------------

bool IsSet(const type::v1::Date& d) { return d.year() != 0 || d.month() != 0 || d.day() != 0; }

bool ValidDate(int year, int month, int day) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

struct ColumnSpec {
  v1::ColumnKind kind = v1::COLUMN_KIND_UNSPECIFIED;
  int year = 0;
  int month = 0;
  int day = 0;
};

// "actual_2024", "plan_2025", "estimate_2025", "partial_2025_06_30".
absl::optional<ColumnSpec> ParseColumnId(absl::string_view id) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '_');
  ColumnSpec spec;
  if (parts.size() == 2) {
    if (parts[0] == "actual") {
      spec.kind = v1::COLUMN_KIND_ACTUAL;
    } else if (parts[0] == "plan") {
      spec.kind = v1::COLUMN_KIND_PLAN;
    } else if (parts[0] == "estimate") {
      spec.kind = v1::COLUMN_KIND_ESTIMATE;
    } else {
      return absl::nullopt;
    }
  } else if (parts.size() == 4 && parts[0] == "partial") {
    spec.kind = v1::COLUMN_KIND_PARTIAL_ACTUAL;
    if (parts[2].size() != 2 || parts[3].size() != 2 || !AllDigits(parts[2]) ||
        !AllDigits(parts[3])) {
      return absl::nullopt;
    }
    spec.month = std::stoi(std::string(parts[2]));
    spec.day = std::stoi(std::string(parts[3]));
  } else {
    return absl::nullopt;
  }
  if (parts[1].size() != 4 || !AllDigits(parts[1])) return absl::nullopt;
  spec.year = std::stoi(std::string(parts[1]));
  if (spec.year < 1900) return absl::nullopt;
  if (spec.kind == v1::COLUMN_KIND_PARTIAL_ACTUAL && !ValidDate(spec.year, spec.month, spec.day)) {
    return absl::nullopt;
  }
  return spec;
}

const v1::Column* FindTableColumn(const v1::CatalogTable& table, absl::string_view id) {
  for (const v1::Column& c : table.columns()) {
    if (c.id() == id) return &c;
  }
  return nullptr;
}

// The full-year figure of the year before `column`'s year: actual if the
// table has it, else estimate, else plan (the last total of a stock-flow).
const v1::Column* PreviousYearColumn(const v1::CatalogTable& table, const v1::Column& column) {
  const int year = column.year() - 1;
  for (const char* kind : {"actual_", "estimate_", "plan_"}) {
    if (const v1::Column* c = FindTableColumn(table, absl::StrCat(kind, year))) return c;
  }
  return nullptr;
}

// The base of a growth ratio: the previous year's full-year figure, or for a
// partial actual the same period of the previous year (a half-year against a
// whole year would read as a collapse).
const v1::Column* GrowthBaseColumn(const v1::CatalogTable& table, const v1::Column& column) {
  if (column.kind() == v1::COLUMN_KIND_PARTIAL_ACTUAL) {
    return FindTableColumn(table, absl::StrFormat("partial_%04d_%02d_%02d", column.year() - 1,
                                                  column.as_of().month(), column.as_of().day()));
  }
  return PreviousYearColumn(table, column);
}

// "Kế hoạch 2025", as the findings' messages name a column.
std::string ColumnLabel(const v1::Column& column) {
  switch (column.kind()) {
    case v1::COLUMN_KIND_ACTUAL:
      return absl::StrCat("Thực hiện ", column.year());
    case v1::COLUMN_KIND_PLAN:
      return absl::StrCat("Kế hoạch ", column.year());
    case v1::COLUMN_KIND_ESTIMATE:
      return absl::StrCat("Ước thực hiện ", column.year());
    case v1::COLUMN_KIND_PARTIAL_ACTUAL:
      return absl::StrFormat("Thực hiện đến %02d/%02d/%04d", column.as_of().day(),
                             column.as_of().month(), column.as_of().year());
    default:
      return column.id();
  }
}

std::string FormatDate(const type::v1::Date& d) {
  return absl::StrFormat("%02d/%02d/%04d", d.day(), d.month(), d.year());
}

// Vietnamese style for messages: "2.745", "3.200,5", "-12".
std::string Vi(const Decimal& d) {
  const std::string plain = d.ToString();
  absl::string_view text = plain;
  std::string sign;
  if (!text.empty() && text[0] == '-') {
    sign = "-";
    text.remove_prefix(1);
  }
  const size_t point = text.find('.');
  absl::string_view integer = text.substr(0, point);
  std::string out;
  for (size_t i = 0; i < integer.size(); ++i) {
    if (i > 0 && (integer.size() - i) % 3 == 0) out.push_back('.');
    out.push_back(integer[i]);
  }
  if (point != absl::string_view::npos) absl::StrAppend(&out, ",", text.substr(point + 1));
  return sign + out;
}

// ---- Cells -------------------------------------------------------------------

v1::CellValue Blank() {
  v1::CellValue v;
  v.set_state(v1::VALUE_STATE_BLANK);
  return v;
}

v1::CellValue Number(const Decimal& d) {
  v1::CellValue v;
  v.set_state(v1::VALUE_STATE_NUMBER);
  v.set_number(d.ToString());
  return v;
}

v1::CellValue Dash() {
  v1::CellValue v;
  v.set_state(v1::VALUE_STATE_DASH);
  return v;
}

v1::CellValue Lookup(const ValueMap& values, absl::string_view column, absl::string_view code) {
  auto it = values.find(CellKey(std::string(column), std::string(code)));
  if (it == values.end() || it->second.state() == v1::VALUE_STATE_UNSPECIFIED) return Blank();
  return it->second;
}

// A number, a dash as 0, or nothing for a blank (or an unreadable number,
// which the store never holds).
absl::optional<Decimal> Numeric(const v1::CellValue& cell) {
  if (cell.state() == v1::VALUE_STATE_DASH) return Decimal();
  if (cell.state() != v1::VALUE_STATE_NUMBER) return absl::nullopt;
  absl::StatusOr<Decimal> d = Decimal::Parse(cell.number(), "number");
  if (!d.ok()) return absl::nullopt;
  return *d;
}

}  // namespace

// ---- Decimal -----------------------------------------------------------------

Decimal Decimal::FromInt(int64_t value) {
  return Decimal(static_cast<i128>(value) * static_cast<i128>(kScale));
}

absl::StatusOr<Decimal> Decimal::Parse(absl::string_view text, absl::string_view field,
                                       int max_decimals, bool allow_negative) {
  max_decimals = std::clamp(max_decimals, 0, kMaxDecimals);
  auto bad = [&](absl::string_view why) {
    return InvalidField(field, absl::StrCat(Quote(text), " is not a decimal number: ", why));
  };
  if (text.empty()) return InvalidField(field, "a decimal number is required, got empty text");
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) ++i;
  const size_t int_start = i;
  while (i < text.size() && IsDigit(text[i])) ++i;
  const absl::string_view integer = text.substr(int_start, i - int_start);
  absl::string_view fraction;
  const bool has_point = i < text.size() && text[i] == '.';
  if (has_point) {
    const size_t frac_start = ++i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    fraction = text.substr(frac_start, i - frac_start);
  }
  if (i < text.size()) {
    const char c = text[i];
    if (c == ',') return bad("no thousands separators or decimal commas (write 2675 or 3200.5)");
    if (c == 'e' || c == 'E') return bad("no exponent");
    if (c == '+') return bad("no plus sign");
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) return bad("no spaces");
    if (c == '.') return bad("one decimal point at most");
    return bad(absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }
  if (integer.empty()) return bad(has_point ? "digits are needed before the point" : "no digits");
  if (has_point && fraction.empty()) return bad("digits are needed after the point");
  if (negative && !allow_negative) return InvalidField(field, "must not be negative");
  if (static_cast<int>(fraction.size()) > max_decimals) {
    return InvalidField(field, max_decimals == 0
                                   ? absl::StrCat(Quote(text), " must be a whole number")
                                   : absl::StrCat(Quote(text), " has more than ", max_decimals,
                                                  " digits after the point"));
  }
  const size_t first = integer.find_first_not_of('0');
  const absl::string_view significant =
      first == absl::string_view::npos ? absl::string_view() : integer.substr(first);
  if (static_cast<int>(significant.size()) > kMaxIntegerDigits) {
    return InvalidField(field, absl::StrCat(Quote(text), " is too large (below 10^24 only)"));
  }
  u128 value = 0;
  for (char c : significant) value = value * 10 + static_cast<u128>(c - '0');
  u128 frac = 0;
  for (char c : fraction) frac = frac * 10 + static_cast<u128>(c - '0');
  const i128 scaled = static_cast<i128>(
      value * kScale + frac * Pow10(kMaxDecimals - static_cast<int>(fraction.size())));
  return Decimal(negative ? -scaled : scaled);
}

std::string Decimal::ToString(absl::optional<int> decimals) const {
  u128 magnitude = Magnitude(scaled_);
  if (decimals.has_value()) {
    const u128 unit = Pow10(kMaxDecimals - std::clamp(*decimals, 0, kMaxDecimals));
    const u128 r = magnitude % unit;
    magnitude = magnitude / unit + (r >= unit - r ? 1 : 0);
    magnitude *= unit;
  }
  std::string out = (scaled_ < 0 && magnitude != 0) ? "-" : "";
  absl::StrAppend(&out, U128ToString(magnitude / kScale));
  u128 fraction = magnitude % kScale;
  if (fraction != 0) {
    std::string digits = U128ToString(fraction);
    digits.insert(0, kMaxDecimals - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    absl::StrAppend(&out, ".", digits);
  }
  return out;
}

Decimal Decimal::operator+(const Decimal& o) const { return Decimal(scaled_ + o.scaled_); }
Decimal Decimal::operator-(const Decimal& o) const { return Decimal(scaled_ - o.scaled_); }
Decimal Decimal::operator*(const Decimal& o) const {
  return Decimal(MulDivRound(scaled_, o.scaled_, static_cast<i128>(kScale)));
}

absl::optional<Decimal> Decimal::DividedBy(const Decimal& o, int decimals) const {
  if (o.scaled_ == 0) return absl::nullopt;
  const int d = std::clamp(decimals, 0, kMaxDecimals);
  // a ÷ b in units of 10^-d is round(a_scaled × 10^d ÷ b_scaled).
  const i128 q = MulDivRound(scaled_, static_cast<i128>(Pow10(d)), o.scaled_);
  return Decimal(MulDivRound(q, static_cast<i128>(Pow10(kMaxDecimals - d)), 1));
}

Decimal Decimal::Abs() const { return Decimal(scaled_ < 0 ? -scaled_ : scaled_); }

// ---- Catalog -----------------------------------------------------------------

namespace {

absl::Status CheckDate(const type::v1::Date& d, absl::string_view field) {
  if (!ValidDate(d.year(), d.month(), d.day())) {
    return InvalidField(field, absl::StrFormat("%04d-%02d-%02d is not a calendar date", d.year(),
                                               d.month(), d.day()));
  }
  return absl::OkStatus();
}

absl::Status CheckTable(const v1::CatalogTable& table, const std::string& field) {
  if (!ValidId(table.id(), 32)) {
    if (table.id().empty()) return RequiredField(Sub(field, "id"));
    return InvalidField(Sub(field, "id"),
                        absl::StrCat(Quote(table.id()), " must be 1..32 of [a-z0-9-]"));
  }
  if (table.columns_size() == 0) return RequiredField(Sub(field, "columns"));
  absl::flat_hash_set<std::string> ids;
  for (int c = 0; c < table.columns_size(); ++c) {
    const v1::Column& column = table.columns(c);
    const std::string cf = absl::StrCat(field, ".columns[", c, "]");
    absl::optional<ColumnSpec> spec = ParseColumnId(column.id());
    if (column.id().empty()) return RequiredField(Sub(cf, "id"));
    if (!spec) {
      return InvalidField(Sub(cf, "id"),
                          absl::StrCat(Quote(column.id()),
                                       " is not a column id (actual_{yyyy}, plan_{yyyy}, "
                                       "estimate_{yyyy} or partial_{yyyy}_{mm}_{dd})"));
    }
    if (!ids.insert(column.id()).second) {
      return InvalidField(Sub(cf, "id"), absl::StrCat("duplicate column ", Quote(column.id())));
    }
    if (column.kind() == v1::COLUMN_KIND_UNSPECIFIED) return RequiredField(Sub(cf, "kind"));
    if (column.kind() != spec->kind) {
      return InvalidField(Sub(cf, "kind"),
                          absl::StrCat(v1::ColumnKind_Name(column.kind()), " does not agree with ",
                                       Quote(column.id())));
    }
    if (column.year() != spec->year) {
      return InvalidField(Sub(cf, "year"),
                          absl::StrCat(column.year(), " does not agree with ", Quote(column.id())));
    }
    if (spec->kind == v1::COLUMN_KIND_PARTIAL_ACTUAL) {
      if (!IsSet(column.as_of())) return RequiredField(Sub(cf, "as_of"));
      if (column.as_of().year() != spec->year || column.as_of().month() != spec->month ||
          column.as_of().day() != spec->day) {
        return InvalidField(Sub(cf, "as_of"),
                            absl::StrCat("does not agree with ", Quote(column.id())));
      }
    } else if (IsSet(column.as_of())) {
      return InvalidField(Sub(cf, "as_of"), "only a partial actual has an as_of date");
    }
    if (IsSet(column.registry_as_of())) {
      absl::Status s = CheckDate(column.registry_as_of(), Sub(cf, "registry_as_of"));
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Every column of `table` must also be a column of `operand`'s table, so an
// operand can be read in the same column.
absl::Status CheckCovers(const v1::Catalog& catalog, const v1::Indicator& indicator,
                         const v1::Indicator& operand, const std::string& field) {
  if (indicator.table() == operand.table()) return absl::OkStatus();
  const v1::CatalogTable* mine = nullptr;
  const v1::CatalogTable* theirs = nullptr;
  for (const v1::CatalogTable& t : catalog.tables()) {
    if (t.id() == indicator.table()) mine = &t;
    if (t.id() == operand.table()) theirs = &t;
  }
  for (const v1::Column& c : mine->columns()) {
    if (FindTableColumn(*theirs, c.id()) == nullptr) {
      return InvalidField(field, absl::StrCat(Quote(operand.code()), " has no column ",
                                              Quote(c.id()), " in table ", operand.table()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CatalogView>> CatalogView::Build(
    const v1::ImportCatalogRequest& request) {
  if (!request.has_catalog()) return RequiredField("catalog");
  auto view = std::make_shared<CatalogView>();
  view->catalog_ = request.catalog();
  v1::Catalog& catalog = view->catalog_;
  if (catalog.year() < 2000 || catalog.year() > 2100) {
    return InvalidField("catalog.year", absl::StrCat(catalog.year(), " is not in 2000..2100"));
  }
  if (catalog.tables_size() == 0) return RequiredField("catalog.tables");
  absl::flat_hash_map<std::string, int> table_index;
  for (int t = 0; t < catalog.tables_size(); ++t) {
    const std::string field = absl::StrCat("catalog.tables[", t, "]");
    absl::Status s = CheckTable(catalog.tables(t), field);
    if (!s.ok()) return s;
    if (!table_index.emplace(catalog.tables(t).id(), t).second) {
      return InvalidField(Sub(field, "id"),
                          absl::StrCat("duplicate table ", Quote(catalog.tables(t).id())));
    }
  }

  // Indicators, one by one.
  if (request.indicators_size() == 0) return RequiredField("indicators");
  absl::flat_hash_map<std::string, int> by_code;
  absl::flat_hash_set<std::pair<std::string, int32_t>> sort_keys;
  for (int i = 0; i < request.indicators_size(); ++i) {
    const v1::Indicator& ind = request.indicators(i);
    const std::string f = absl::StrCat("indicators[", i, "]");
    if (ind.code().empty()) return RequiredField(Sub(f, "code"));
    if (!ValidCode(ind.code())) {
      return InvalidField(Sub(f, "code"),
                          absl::StrCat(Quote(ind.code()), " must be 1..32 of [0-9A-Za-z.-]"));
    }
    auto [it, inserted] = by_code.emplace(ind.code(), i);
    if (!inserted) {
      return InvalidField(Sub(f, "code"), absl::StrCat("duplicate code ", Quote(ind.code()),
                                                       " (also indicators[", it->second, "])"));
    }
    if (ind.table().empty()) return RequiredField(Sub(f, "table"));
    if (!table_index.contains(ind.table())) {
      return InvalidField(Sub(f, "table"), absl::StrCat("no table ", Quote(ind.table())));
    }
    if (!sort_keys.emplace(ind.table(), ind.sort_key()).second) {
      return InvalidField(Sub(f, "sort_key"), absl::StrCat("sort_key ", ind.sort_key(),
                                                           " is used twice in ", ind.table()));
    }
    if (absl::StripAsciiWhitespace(ind.label()).empty()) return RequiredField(Sub(f, "label"));
    if (!v1::ChildRelation_IsValid(ind.relation())) {
      return InvalidField(Sub(f, "relation"), absl::StrCat("unknown value ", ind.relation()));
    }
    if (!v1::Aggregation_IsValid(ind.aggregation())) {
      return InvalidField(Sub(f, "aggregation"), absl::StrCat("unknown value ", ind.aggregation()));
    }
    if (ind.max_decimals() < 0 || ind.max_decimals() > kMaxDecimals) {
      return InvalidField(Sub(f, "max_decimals"), "must be 0..6");
    }
    if (ind.heading()) {
      if (ind.aggregation() != v1::AGGREGATION_UNSPECIFIED &&
          ind.aggregation() != v1::AGGREGATION_NONE) {
        return InvalidField(Sub(f, "aggregation"), "a heading carries no values");
      }
      if (ind.has_derivation()) {
        return InvalidField(Sub(f, "derivation"), "a heading carries no values");
      }
    } else if (ind.aggregation() == v1::AGGREGATION_UNSPECIFIED) {
      return RequiredField(Sub(f, "aggregation"));
    }
    if (ind.aggregation() != v1::AGGREGATION_WEIGHTED_AVERAGE && !ind.weight_indicator().empty()) {
      return InvalidField(Sub(f, "weight_indicator"), "only for AGGREGATION_WEIGHTED_AVERAGE");
    }
    if (ind.aggregation() != v1::AGGREGATION_SHARE &&
        (!ind.numerator_indicator().empty() || !ind.denominator_indicator().empty())) {
      return InvalidField(Sub(f, ind.numerator_indicator().empty() ? "denominator_indicator"
                                                                   : "numerator_indicator"),
                          "only for AGGREGATION_SHARE");
    }
    if (ind.has_derivation()) {
      const v1::RegistryDerivation& d = ind.derivation();
      const std::string df = Sub(f, "derivation");
      if (d.kind() == registry::v1::ORGANIZATION_KIND_UNSPECIFIED) {
        return RequiredField(Sub(df, "kind"));
      }
      if (!registry::v1::OrganizationKind_IsValid(d.kind())) {
        return InvalidField(Sub(df, "kind"), absl::StrCat("unknown value ", d.kind()));
      }
      if (!registry::v1::Sector_IsValid(d.sector())) {
        return InvalidField(Sub(df, "sector"), absl::StrCat("unknown value ", d.sector()));
      }
      if (d.metrics_size() == 0) return RequiredField(Sub(df, "metrics"));
      for (int m = 0; m < d.metrics_size(); ++m) {
        if (d.metrics(m) == v1::REGISTRY_METRIC_UNSPECIFIED ||
            !v1::RegistryMetric_IsValid(d.metrics(m))) {
          return InvalidField(absl::StrCat(df, ".metrics[", m, "]"),
                              absl::StrCat("not a registry metric: ", d.metrics(m)));
        }
      }
    }
  }

  // Indicators against each other: the tree and the operands.
  const auto& inds = request.indicators();
  for (int i = 0; i < inds.size(); ++i) {
    const v1::Indicator& ind = inds[i];
    const std::string f = absl::StrCat("indicators[", i, "]");
    if (ind.parent().empty()) {
      if (ind.relation() != v1::CHILD_RELATION_UNSPECIFIED) {
        return InvalidField(Sub(f, "relation"), "a top-level row has no relation to a parent");
      }
    } else {
      auto it = by_code.find(ind.parent());
      if (it == by_code.end()) {
        return InvalidField(Sub(f, "parent"), absl::StrCat("no indicator ", Quote(ind.parent())));
      }
      const v1::Indicator& parent = inds[it->second];
      if (parent.table() != ind.table()) {
        return InvalidField(Sub(f, "parent"), absl::StrCat(Quote(ind.parent()), " is in table ",
                                                           parent.table(), ", not ", ind.table()));
      }
      if (ind.relation() == v1::CHILD_RELATION_UNSPECIFIED)
        return RequiredField(Sub(f, "relation"));
      if (parent.heading() && ind.relation() != v1::CHILD_RELATION_SECTION) {
        return InvalidField(Sub(f, "relation"),
                            absl::StrCat("a row under the heading ", Quote(parent.code()),
                                         " is CHILD_RELATION_SECTION"));
      }
      if (!parent.heading() && ind.relation() == v1::CHILD_RELATION_SECTION) {
        return InvalidField(Sub(f, "relation"),
                            absl::StrCat("CHILD_RELATION_SECTION is for rows under a heading; ",
                                         Quote(parent.code()), " is not one"));
      }
      // A cycle never reaches a top-level row.
      const v1::Indicator* walk = &ind;
      for (int steps = 0; !walk->parent().empty(); ++steps) {
        if (steps > inds.size()) {
          return InvalidField(Sub(f, "parent"), "the parents form a cycle");
        }
        auto up = by_code.find(walk->parent());
        if (up == by_code.end()) break;  // reported at that row
        walk = &inds[up->second];
      }
    }
    auto operand = [&](const std::string& code, const std::string& field,
                       bool share_operand) -> absl::Status {
      if (code.empty()) return RequiredField(field);
      auto it = by_code.find(code);
      if (it == by_code.end()) {
        return InvalidField(field, absl::StrCat("no indicator ", Quote(code)));
      }
      const v1::Indicator& other = inds[it->second];
      if (other.code() == ind.code()) return InvalidField(field, "refers to the row itself");
      if (other.heading()) {
        return InvalidField(field, absl::StrCat(Quote(code), " is a heading"));
      }
      if (!share_operand && other.aggregation() != v1::AGGREGATION_SUM) {
        return InvalidField(
            field, absl::StrCat("the weight ", Quote(code), " must be a count (AGGREGATION_SUM)"));
      }
      if (share_operand && other.aggregation() != v1::AGGREGATION_SUM &&
          other.aggregation() != v1::AGGREGATION_WEIGHTED_AVERAGE) {
        return InvalidField(
            field, absl::StrCat(Quote(code), " must be a sum or an average to be rolled up"));
      }
      return CheckCovers(catalog, ind, other, field);
    };
    if (ind.aggregation() == v1::AGGREGATION_WEIGHTED_AVERAGE) {
      absl::Status s = operand(ind.weight_indicator(), Sub(f, "weight_indicator"), false);
      if (!s.ok()) return s;
    }
    if (ind.aggregation() == v1::AGGREGATION_SHARE) {
      absl::Status s = operand(ind.numerator_indicator(), Sub(f, "numerator_indicator"), true);
      if (s.ok()) s = operand(ind.denominator_indicator(), Sub(f, "denominator_indicator"), true);
      if (!s.ok()) return s;
    }
  }

  // Rules.
  absl::flat_hash_set<std::string> rule_ids;
  for (int r = 0; r < request.rules_size(); ++r) {
    v1::ValidationRule rule = request.rules(r);
    const std::string f = absl::StrCat("rules[", r, "]");
    const std::string id =
        std::string(absl::string_view(rule.name()).substr(rule.name().rfind('/') + 1));
    if (rule.name().empty()) return RequiredField(Sub(f, "name"));
    if (!ValidId(id, 64)) {
      return InvalidField(Sub(f, "name"),
                          absl::StrCat("rule id ", Quote(id), " must be 1..64 of [a-z0-9-]"));
    }
    if (!rule_ids.insert(id).second) {
      return InvalidField(Sub(f, "name"), absl::StrCat("duplicate rule ", Quote(id)));
    }
    if (rule.kind() == v1::RULE_KIND_UNSPECIFIED) return RequiredField(Sub(f, "kind"));
    if (!v1::RuleKind_IsValid(rule.kind())) {
      return InvalidField(Sub(f, "kind"), absl::StrCat("unknown value ", rule.kind()));
    }
    if (rule.severity() == v1::SEVERITY_UNSPECIFIED) return RequiredField(Sub(f, "severity"));
    if (!v1::Severity_IsValid(rule.severity())) {
      return InvalidField(Sub(f, "severity"), absl::StrCat("unknown value ", rule.severity()));
    }
    auto find = [&](const std::string& code, const std::string& field,
                    const v1::Indicator** out) -> absl::Status {
      if (code.empty()) return RequiredField(field);
      auto it = by_code.find(code);
      if (it == by_code.end())
        return InvalidField(field, absl::StrCat("no indicator ", Quote(code)));
      if (inds[it->second].heading()) {
        return InvalidField(field,
                            absl::StrCat(Quote(code), " is a heading and carries no values"));
      }
      *out = &inds[it->second];
      return absl::OkStatus();
    };
    const v1::Indicator* subject = nullptr;
    absl::Status s = find(rule.subject(), Sub(f, "subject"), &subject);
    if (!s.ok()) return s;
    for (int p = 0; p < rule.parts_size(); ++p) {
      const v1::Indicator* part = nullptr;
      s = find(rule.parts(p), absl::StrCat(f, ".parts[", p, "]"), &part);
      if (!s.ok()) return s;
    }
    auto arity = [&](int n) -> absl::Status {
      if (rule.parts_size() != n) {
        return InvalidField(Sub(f, "parts"), absl::StrCat(v1::RuleKind_Name(rule.kind()), " takes ",
                                                          n, n == 1 ? " part" : " parts"));
      }
      return absl::OkStatus();
    };
    switch (rule.kind()) {
      case v1::RULE_KIND_BREAKDOWN_SUM:
        if (rule.parts_size() == 0 &&
            std::none_of(inds.begin(), inds.end(), [&](const v1::Indicator& c) {
              return c.parent() == subject->code() && c.relation() == v1::CHILD_RELATION_BREAKDOWN;
            })) {
          return InvalidField(Sub(f, "parts"),
                              absl::StrCat(Quote(subject->code()), " has no BREAKDOWN children"));
        }
        break;
      case v1::RULE_KIND_OF_WHICH_LE_PARENT:
      case v1::RULE_KIND_ACTIVE_LE_TOTAL:
        s = arity(1);
        break;
      case v1::RULE_KIND_STOCK_FLOW:
        s = arity(2);
        break;
      case v1::RULE_KIND_SHARE_MATCHES:
        if (subject->aggregation() != v1::AGGREGATION_SHARE) {
          return InvalidField(Sub(f, "subject"),
                              absl::StrCat(Quote(subject->code()), " is not a share"));
        }
        s = arity(0);
        break;
      case v1::RULE_KIND_REGISTRY_COUNT:
        if (!subject->has_derivation()) {
          return InvalidField(Sub(f, "subject"),
                              absl::StrCat(Quote(subject->code()), " has no registry derivation"));
        }
        s = arity(0);
        break;
      default:
        break;
    }
    if (!s.ok()) return s;
    for (int k = 0; k < rule.column_kinds_size(); ++k) {
      if (rule.column_kinds(k) == v1::COLUMN_KIND_UNSPECIFIED ||
          !v1::ColumnKind_IsValid(rule.column_kinds(k))) {
        return InvalidField(absl::StrCat(f, ".column_kinds[", k, "]"),
                            absl::StrCat("not a column kind: ", rule.column_kinds(k)));
      }
    }
    if (!rule.tolerance().empty()) {
      absl::StatusOr<Decimal> t = Decimal::Parse(rule.tolerance(), Sub(f, "tolerance"), 6, false);
      if (!t.ok()) return t.status();
    }
    rule.set_name(absl::StrCat("catalogs/", catalog.year(), "/rules/", id));
    view->rules_.push_back(std::move(rule));
  }

  // Catalog order: tables as printed, then sort_key.
  view->indicators_.assign(inds.begin(), inds.end());
  std::stable_sort(view->indicators_.begin(), view->indicators_.end(),
                   [&](const v1::Indicator& a, const v1::Indicator& b) {
                     return std::make_pair(table_index.at(a.table()), a.sort_key()) <
                            std::make_pair(table_index.at(b.table()), b.sort_key());
                   });
  for (size_t i = 0; i < view->indicators_.size(); ++i) {
    v1::Indicator& ind = view->indicators_[i];
    ind.set_name(absl::StrCat("catalogs/", catalog.year(), "/indicators/", ind.code()));
    if (ind.heading()) ind.set_aggregation(v1::AGGREGATION_NONE);
    view->by_code_[ind.code()] = i;
  }
  catalog.set_name(absl::StrCat("catalogs/", catalog.year()));
  catalog.set_indicator_count(static_cast<int32_t>(view->indicators_.size()));
  catalog.set_rule_count(static_cast<int32_t>(view->rules_.size()));
  return std::shared_ptr<const CatalogView>(std::move(view));
}

const v1::Indicator* CatalogView::FindIndicator(absl::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &indicators_[it->second];
}

const v1::CatalogTable* CatalogView::FindTable(absl::string_view table_id) const {
  for (const v1::CatalogTable& t : catalog_.tables()) {
    if (t.id() == table_id) return &t;
  }
  return nullptr;
}

const v1::Column* CatalogView::FindColumn(const v1::Indicator& indicator,
                                          absl::string_view column_id) const {
  const v1::CatalogTable* table = FindTable(indicator.table());
  return table == nullptr ? nullptr : FindTableColumn(*table, column_id);
}

std::vector<const v1::Indicator*> CatalogView::TableIndicators(absl::string_view table_id) const {
  std::vector<const v1::Indicator*> out;
  for (const v1::Indicator& ind : indicators_) {
    if (ind.table() == table_id) out.push_back(&ind);
  }
  return out;
}

// ---- Value names and writes ---------------------------------------------------

namespace {

bool ValidUnit(absl::string_view unit) {
  std::vector<absl::string_view> parts = absl::StrSplit(unit, '/');
  if ((parts.size() != 2 && parts.size() != 4) || parts[0] != "provinces" || parts[1].size() != 2 ||
      !AllDigits(parts[1])) {
    return false;
  }
  if (parts.size() == 2) return true;
  if (parts[2] == "communes") return parts[3].size() == 5 && AllDigits(parts[3]);
  if (parts[2] == "agencies") return ValidId(parts[3], 40);
  return false;
}

}  // namespace

absl::StatusOr<ValueName> ParseValueName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return RequiredField(field);
  auto bad = [&](absl::string_view why) {
    return InvalidField(field,
                        absl::StrCat(Quote(name),
                                     " is not a value name ({unit}/indicator-values/"
                                     "{year}/{column}/{code}): ",
                                     why),
                        "INVALID_NAME");
  };
  constexpr absl::string_view kMarker = "/indicator-values/";
  const size_t at = name.find(kMarker);
  if (at == absl::string_view::npos) return bad("no /indicator-values/");
  ValueName out;
  out.unit = std::string(name.substr(0, at));
  if (!ValidUnit(out.unit)) {
    return bad("the unit is provinces/{2 digits}[/communes/{5 digits}|/agencies/{id}]");
  }
  std::vector<absl::string_view> rest = absl::StrSplit(name.substr(at + kMarker.size()), '/');
  if (rest.size() != 3) return bad("expected {year}/{column}/{code} after the unit");
  if (rest[0].size() != 4 || !AllDigits(rest[0])) return bad("the year has 4 digits");
  out.year = std::stoi(std::string(rest[0]));
  if (!ParseColumnId(rest[1])) {
    return bad(
        "the column is actual_{yyyy}, plan_{yyyy}, estimate_{yyyy} or partial_{yyyy}_{mm}_{dd}");
  }
  out.column = std::string(rest[1]);
  if (!ValidCode(rest[2])) return bad("the code is 1..32 of [0-9A-Za-z.-]");
  out.code = std::string(rest[2]);
  return out;
}

std::string FormatValueName(const ValueName& name) {
  return absl::StrCat(name.unit, "/indicator-values/", name.year, "/", name.column, "/", name.code);
}

absl::Status CheckWrite(const CatalogView& catalog, const v1::ValueWrite& write,
                        absl::string_view field) {
  const std::string name_field = Sub(field, "name");
  absl::StatusOr<ValueName> name = ParseValueName(write.name(), name_field);
  if (!name.ok()) return name.status();
  const int year = catalog.catalog().year();
  if (name->year != year) {
    return InvalidField(name_field,
                        absl::StrCat("year ", name->year, " is not the catalog's year ", year));
  }
  const v1::Indicator* indicator = catalog.FindIndicator(name->code);
  if (indicator == nullptr) {
    return InvalidField(name_field,
                        absl::StrCat("no indicator ", Quote(name->code), " in catalogs/", year));
  }
  if (indicator->heading()) {
    return InvalidField(name_field,
                        absl::StrCat(Quote(name->code), " is a heading and carries no values"));
  }
  if (catalog.FindColumn(*indicator, name->column) == nullptr) {
    std::vector<std::string> ids;
    for (const v1::Column& c : catalog.FindTable(indicator->table())->columns()) {
      ids.push_back(c.id());
    }
    return InvalidField(
        name_field, absl::StrCat(Quote(name->column), " is not a column of ", indicator->table(),
                                 " (", absl::StrJoin(ids, ", "), ")"));
  }
  const std::string value_field = Sub(field, "value");
  if (!write.has_value()) return RequiredField(value_field);
  const v1::CellValue& value = write.value();
  const std::string number_field = Sub(value_field, "number");
  switch (value.state()) {
    case v1::VALUE_STATE_UNSPECIFIED:
      return RequiredField(Sub(value_field, "state"));
    case v1::VALUE_STATE_BLANK:
    case v1::VALUE_STATE_DASH:
      if (!value.number().empty()) {
        return InvalidField(number_field, "must be empty unless the state is VALUE_STATE_NUMBER");
      }
      return absl::OkStatus();
    case v1::VALUE_STATE_NUMBER: {
      if (value.number().empty()) return RequiredField(number_field);
      absl::StatusOr<Decimal> d = Decimal::Parse(
          value.number(), number_field, indicator->max_decimals(), indicator->allow_negative());
      return d.status();
    }
    default:
      return InvalidField(Sub(value_field, "state"), absl::StrCat("unknown value ", value.state()));
  }
}

// ---- Rules -------------------------------------------------------------------

namespace {

// The operands of one rule in one column, read and checked.
struct Check {
  std::vector<v1::Operand> operands;
  std::vector<std::string> blank;  // "I.1.e (actual_2024)" for each blank input
};

absl::optional<Decimal> Read(Check& check, const ValueMap& values, absl::string_view column,
                             absl::string_view code) {
  v1::Operand& op = check.operands.emplace_back();
  op.set_indicator(std::string(code));
  op.set_column(std::string(column));
  *op.mutable_value() = Lookup(values, column, code);
  absl::optional<Decimal> d = Numeric(op.value());
  if (!d) check.blank.push_back(absl::StrCat(code, " (", column, ")"));
  return d;
}

// Parts of a sum as printed in a message: "2.675 + 100 - 30".
std::string Terms(const std::vector<Decimal>& values, const std::vector<bool>& minus) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) absl::StrAppend(&out, minus[i] ? " - " : " + ");
    absl::StrAppend(&out, Vi(values[i]));
  }
  return out;
}

bool Within(const Decimal& a, const Decimal& b, const Decimal& tolerance) {
  return (a - b).Abs() <= tolerance;
}

}  // namespace

std::vector<v1::Finding> EvaluateRules(const CatalogView& catalog, absl::string_view unit,
                                       const ValueMap& values, const RegistryFigures* registry) {
  struct Ordered {
    std::tuple<int, int, int, int> key;
    v1::Finding finding;
  };
  std::vector<Ordered> out;
  const int year = catalog.catalog().year();
  absl::flat_hash_map<std::string, int> position;
  for (size_t i = 0; i < catalog.indicators().size(); ++i) {
    position[catalog.indicators()[i].code()] = static_cast<int>(i);
  }
  for (size_t r = 0; r < catalog.rules().size(); ++r) {
    const v1::ValidationRule& rule = catalog.rules()[r];
    const std::string rule_id = rule.name().substr(rule.name().rfind('/') + 1);
    const v1::Indicator* subject = catalog.FindIndicator(rule.subject());
    const v1::CatalogTable* table = catalog.FindTable(subject->table());
    int table_pos = 0;
    while (catalog.catalog().tables(table_pos).id() != table->id()) ++table_pos;
    Decimal tolerance;
    if (!rule.tolerance().empty()) tolerance = *Decimal::Parse(rule.tolerance(), "tolerance");

    std::vector<std::string> parts(rule.parts().begin(), rule.parts().end());
    if (rule.kind() == v1::RULE_KIND_BREAKDOWN_SUM && parts.empty()) {
      for (const v1::Indicator& ind : catalog.indicators()) {
        if (ind.parent() == subject->code() && ind.relation() == v1::CHILD_RELATION_BREAKDOWN) {
          parts.push_back(ind.code());
        }
      }
    }
    if (rule.kind() == v1::RULE_KIND_SHARE_MATCHES) {
      parts = {subject->numerator_indicator(), subject->denominator_indicator()};
    }

    for (int c = 0; c < table->columns_size(); ++c) {
      const v1::Column& column = table->columns(c);
      if (rule.column_kinds_size() > 0 &&
          std::find(rule.column_kinds().begin(), rule.column_kinds().end(), column.kind()) ==
              rule.column_kinds().end()) {
        continue;
      }
      // A rule applies to a column only where every operand has that column.
      bool applies = std::all_of(parts.begin(), parts.end(), [&](const std::string& code) {
        return catalog.FindColumn(*catalog.FindIndicator(code), column.id()) != nullptr;
      });
      const v1::Column* previous = nullptr;
      if (rule.kind() == v1::RULE_KIND_STOCK_FLOW) {
        previous = PreviousYearColumn(*table, column);
        applies = applies && previous != nullptr;
      }
      if (rule.kind() == v1::RULE_KIND_REGISTRY_COUNT) applies = IsSet(column.registry_as_of());
      if (!applies) continue;

      v1::Finding f;
      f.set_name(absl::StrCat(unit, "/indicator-findings/", year, "/", rule_id, "/", column.id()));
      f.set_rule(rule.name());
      f.set_kind(rule.kind());
      f.set_severity(rule.severity());
      f.set_column(column.id());
      const std::string label = ColumnLabel(column);
      Check check;
      absl::optional<Decimal> left, right;
      bool passed = false;
      std::string detail;  // the arithmetic, for the message
      std::string not_checkable;

      switch (rule.kind()) {
        case v1::RULE_KIND_BREAKDOWN_SUM: {
          left = Read(check, values, column.id(), subject->code());
          std::vector<Decimal> terms;
          std::vector<bool> minus;
          Decimal sum;
          for (const std::string& p : parts) {
            absl::optional<Decimal> v = Read(check, values, column.id(), p);
            if (v) {
              sum = sum + *v;
              terms.push_back(*v);
              minus.push_back(false);
            }
          }
          if (check.blank.empty()) {
            right = sum;
            passed = Within(*left, sum, tolerance);
            detail = absl::StrCat(Vi(*left), passed ? " = " : " ≠ ", Terms(terms, minus), " = ",
                                  Vi(sum));
          }
          break;
        }
        case v1::RULE_KIND_OF_WHICH_LE_PARENT:
        case v1::RULE_KIND_ACTIVE_LE_TOTAL: {
          absl::optional<Decimal> parent = Read(check, values, column.id(), subject->code());
          left = Read(check, values, column.id(), parts[0]);
          if (check.blank.empty()) {
            right = parent;
            passed = *left <= *right + tolerance;
            detail = absl::StrCat(parts[0], " = ", Vi(*left), passed ? " ≤ " : " > ",
                                  subject->code(), " = ", Vi(*right));
          }
          break;
        }
        case v1::RULE_KIND_STOCK_FLOW: {
          left = Read(check, values, column.id(), subject->code());
          absl::optional<Decimal> last = Read(check, values, previous->id(), subject->code());
          absl::optional<Decimal> in = Read(check, values, column.id(), parts[0]);
          absl::optional<Decimal> out_flow = Read(check, values, column.id(), parts[1]);
          if (check.blank.empty()) {
            right = *last + *in - *out_flow;
            passed = Within(*left, *right, tolerance);
            detail = absl::StrCat(Vi(*left), passed ? " = " : " ≠ ",
                                  Terms({*last, *in, *out_flow}, {false, false, true}), " = ",
                                  Vi(*right));
          }
          break;
        }
        case v1::RULE_KIND_SHARE_MATCHES: {
          left = Read(check, values, column.id(), subject->code());
          absl::optional<Decimal> num = Read(check, values, column.id(), parts[0]);
          absl::optional<Decimal> den = Read(check, values, column.id(), parts[1]);
          if (check.blank.empty()) {
            right = (*num * Decimal::FromInt(100)).DividedBy(*den, kPercentDecimals);
            if (!right) {
              not_checkable = absl::StrCat("mẫu số ", parts[1], " bằng 0");
            } else {
              passed = Within(*left, *right, tolerance);
              detail = absl::StrCat(Vi(*left), passed ? " = " : " ≠ ", Vi(*num), " / ", Vi(*den),
                                    " × 100 = ", Vi(*right));
            }
          }
          break;
        }
        case v1::RULE_KIND_REGISTRY_COUNT: {
          left = Read(check, values, column.id(), subject->code());
          v1::Operand& op = check.operands.emplace_back();
          op.set_indicator(subject->code());
          op.set_column(column.id());
          op.set_from_registry(true);
          *op.mutable_value() =
              registry == nullptr ? Blank() : Lookup(*registry, column.id(), subject->code());
          if (op.value().state() == v1::VALUE_STATE_NUMBER) right = Numeric(op.value());
          if (!right) {
            not_checkable = "chưa có số liệu từ hệ thống đăng ký";
          } else if (check.blank.empty()) {
            passed = Within(*left, *right, tolerance);
            detail = absl::StrCat("số báo cáo ", Vi(*left), passed ? " = " : " ≠ ", "số đăng ký ",
                                  Vi(*right), " (ngày ", FormatDate(column.registry_as_of()), ")");
          }
          break;
        }
        default:
          continue;
      }

      for (v1::Operand& op : check.operands) *f.add_operands() = std::move(op);
      if (left) f.set_left(left->ToString());
      if (!check.blank.empty() || !not_checkable.empty()) {
        std::vector<std::string> why = check.blank;
        if (!why.empty()) why.back() += " để trống";
        if (!not_checkable.empty()) why.push_back(not_checkable);
        f.set_outcome(v1::FINDING_OUTCOME_NOT_CHECKABLE);
        f.set_message(absl::StrCat(label, ": không kiểm tra được vì ", absl::StrJoin(why, ", ")));
      } else {
        f.set_right(right->ToString());
        f.set_outcome(passed ? v1::FINDING_OUTCOME_PASSED : v1::FINDING_OUTCOME_FAILED);
        f.set_message(absl::StrCat(label, ": ", detail));
        f.set_blocks_submission(!passed);
      }
      out.push_back(
          {{table_pos, position.at(subject->code()), c, static_cast<int>(r)}, std::move(f)});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Ordered& a, const Ordered& b) { return a.key < b.key; });
  std::vector<v1::Finding> findings;
  findings.reserve(out.size());
  for (Ordered& o : out) findings.push_back(std::move(o.finding));
  return findings;
}

v1::FindingSummary Summarize(const std::vector<v1::Finding>& findings) {
  v1::FindingSummary s;
  for (const v1::Finding& f : findings) {
    if (f.outcome() == v1::FINDING_OUTCOME_NOT_CHECKABLE) {
      s.set_not_checkable(s.not_checkable() + 1);
    } else if (f.outcome() == v1::FINDING_OUTCOME_FAILED) {
      if (f.severity() == v1::SEVERITY_ERROR) {
        s.set_errors(s.errors() + 1);
      } else if (f.severity() == v1::SEVERITY_WARNING) {
        s.set_warnings(s.warnings() + 1);
        if (f.explanation().text().empty()) {
          s.set_unexplained_warnings(s.unexplained_warnings() + 1);
        }
      }
    }
  }
  s.set_blocking(s.errors() + s.unexplained_warnings());
  return s;
}

// ---- Tables ------------------------------------------------------------------

namespace {

v1::Ratio MakeRatio(v1::RatioKind kind, const v1::Column& column, const v1::Column& base,
                    const v1::CellValue& value, const v1::CellValue& base_value) {
  v1::Ratio ratio;
  ratio.set_kind(kind);
  ratio.set_column(column.id());
  ratio.set_base_column(base.id());
  absl::optional<Decimal> a = Numeric(value), b = Numeric(base_value);
  absl::optional<Decimal> percent;
  if (a && b) {
    const Decimal numerator = kind == v1::RATIO_KIND_GROWTH ? *a - *b : *a;
    percent = (numerator * Decimal::FromInt(100)).DividedBy(*b, kPercentDecimals);
  }
  *ratio.mutable_value() = percent ? Number(*percent) : Blank();
  return ratio;
}

}  // namespace

absl::StatusOr<v1::IndicatorTable> BuildTable(const CatalogView& catalog,
                                              absl::string_view table_id, const ValueMap& values,
                                              const RegistryFigures* registry) {
  const v1::CatalogTable* table = catalog.FindTable(table_id);
  if (table == nullptr) {
    return InvalidField(
        "table", absl::StrCat("no table ", Quote(table_id), " in ", catalog.catalog().name()));
  }
  v1::IndicatorTable out;
  *out.mutable_table() = *table;
  for (const v1::Indicator* ind : catalog.TableIndicators(table_id)) {
    v1::TableRow* row = out.add_rows();
    row->set_indicator(ind->code());
    row->set_printed_number(ind->printed_number());
    row->set_label(ind->label());
    row->set_unit_of_measure(ind->unit_of_measure());
    int level = 0;
    for (const v1::Indicator* p = ind; !p->parent().empty();
         p = catalog.FindIndicator(p->parent())) {
      ++level;
    }
    row->set_level(level);
    row->set_relation(ind->relation());
    row->set_heading(ind->heading());
    if (ind->heading()) continue;
    for (const v1::Column& column : table->columns()) {
      v1::TableCell* cell = row->add_cells();
      cell->set_column(column.id());
      *cell->mutable_value() = Lookup(values, column.id(), ind->code());
      if (ind->has_derivation() && IsSet(column.registry_as_of()) && registry != nullptr) {
        auto it = registry->find(CellKey(column.id(), ind->code()));
        if (it != registry->end()) *cell->mutable_registry_value() = it->second;
      }
    }
    for (const v1::Column& column : table->columns()) {
      const v1::CellValue value = Lookup(values, column.id(), ind->code());
      if (column.kind() == v1::COLUMN_KIND_ACTUAL || column.kind() == v1::COLUMN_KIND_ESTIMATE) {
        if (const v1::Column* plan =
                FindTableColumn(*table, absl::StrCat("plan_", column.year()))) {
          *row->add_ratios() = MakeRatio(v1::RATIO_KIND_PERCENT_OF_PLAN, column, *plan, value,
                                         Lookup(values, plan->id(), ind->code()));
        }
      }
      if (const v1::Column* base = GrowthBaseColumn(*table, column)) {
        *row->add_ratios() = MakeRatio(v1::RATIO_KIND_GROWTH, column, *base, value,
                                       Lookup(values, base->id(), ind->code()));
      }
    }
  }
  return out;
}

// ---- Roll-ups ----------------------------------------------------------------

RollupAccumulator::RollupAccumulator(const CatalogView& catalog) {
  for (const v1::Indicator& ind : catalog.indicators()) {
    if (ind.heading()) continue;
    for (const v1::Column& column : catalog.FindTable(ind.table())->columns()) {
      by_key_.emplace(absl::StrCat(column.id(), "|", ind.code()), static_cast<int>(cells_.size()));
      cells_.push_back({&ind, &column});
    }
  }
  for (Cell& cell : cells_) {
    const std::string& column = cell.column->id();
    switch (cell.indicator->aggregation()) {
      case v1::AGGREGATION_WEIGHTED_AVERAGE:
        cell.weight = Find(column, cell.indicator->weight_indicator());
        break;
      case v1::AGGREGATION_SHARE:
        cell.numerator = Find(column, cell.indicator->numerator_indicator());
        cell.denominator = Find(column, cell.indicator->denominator_indicator());
        break;
      default:
        break;
    }
  }
  own_.resize(cells_.size());
  totals_.resize(cells_.size());
}

int RollupAccumulator::Find(absl::string_view column_and_code) const {
  auto it = by_key_.find(column_and_code);
  return it == by_key_.end() ? -1 : it->second;
}

int RollupAccumulator::Find(absl::string_view column, absl::string_view code) const {
  return Find(absl::StrCat(column, "|", code));
}

void RollupAccumulator::StartChild(absl::string_view unit) {
  EndChild();
  ++children_;
  open_ = true;
  unit_.assign(unit.data(), unit.size());
  unit_reported_ = false;
}

bool RollupAccumulator::Add(int cell, v1::ValueState state, absl::string_view number) {
  if (state != v1::VALUE_STATE_NUMBER && state != v1::VALUE_STATE_DASH) return true;
  Decimal parsed;
  if (state == v1::VALUE_STATE_NUMBER) {
    absl::StatusOr<Decimal> d = Decimal::Parse(number, "number");
    if (!d.ok()) return false;
    parsed = *d;
  }
  unit_reported_ = true;
  if (cell < 0) return true;
  Own& own = own_[cell];
  if (own.child != children_) touched_.push_back(cell);
  own.child = children_;
  own.dash = state == v1::VALUE_STATE_DASH;
  own.number = parsed;
  return true;
}

void RollupAccumulator::EndChild() {
  if (!open_) return;
  open_ = false;
  if (!unit_reported_) silent_.push_back(unit_);
  for (int c : touched_) {
    const Own& own = own_[c];
    Total& total = totals_[c];
    ++total.reported;
    if (own.dash) {
      ++total.dashes;
    } else {
      total.any_number = true;
    }
    total.sum = total.sum + own.number;  // a dash's number is 0
    const int w = cells_[c].weight;
    if (w >= 0 && own_[w].child == children_) {
      // A child whose count is blank or zero cannot be weighted.
      const Decimal& weight = own_[w].number;
      if (Decimal() < weight) {
        total.weighted = total.weighted + own.number * weight;
        total.weights = total.weights + weight;
      }
    }
  }
  touched_.clear();
}

void RollupAccumulator::Merge(RollupAccumulator& other) {
  EndChild();
  other.EndChild();
  for (size_t c = 0; c < totals_.size(); ++c) {
    Total& total = totals_[c];
    const Total& more = other.totals_[c];
    total.reported += more.reported;
    total.dashes += more.dashes;
    total.any_number = total.any_number || more.any_number;
    total.sum = total.sum + more.sum;
    total.weighted = total.weighted + more.weighted;
    total.weights = total.weights + more.weights;
  }
  children_ += other.children_;
  silent_.insert(silent_.end(), other.silent_.begin(), other.silent_.end());
  std::sort(silent_.begin(), silent_.end());
}

void RollupAccumulator::Finish() {
  EndChild();
  for (size_t c = 0; c < cells_.size(); ++c) {
    const v1::Indicator& ind = *cells_[c].indicator;
    Total& total = totals_[c];
    switch (ind.aggregation()) {
      case v1::AGGREGATION_SUM:
        if (total.any_number) {
          total.state = v1::VALUE_STATE_NUMBER;
          total.result = total.sum;
        } else if (total.reported > 0) {
          total.state = v1::VALUE_STATE_DASH;
        }
        break;
      case v1::AGGREGATION_WEIGHTED_AVERAGE:
        if (total.reported > 0 && total.dashes == total.reported) {
          total.state = v1::VALUE_STATE_DASH;
        } else if (absl::optional<Decimal> avg =
                       total.weighted.DividedBy(total.weights, ind.max_decimals())) {
          total.state = v1::VALUE_STATE_NUMBER;
          total.result = *avg;
        }
        break;
      default:
        break;
    }
  }
  // Shares last, in catalog order: recomputed from the rolled-up operands,
  // never summed.
  auto numeric = [&](int c) -> absl::optional<Decimal> {
    if (c < 0 || totals_[c].state == v1::VALUE_STATE_BLANK) return absl::nullopt;
    return totals_[c].result;  // a dash's result is 0
  };
  for (size_t c = 0; c < cells_.size(); ++c) {
    if (cells_[c].indicator->aggregation() != v1::AGGREGATION_SHARE) continue;
    absl::optional<Decimal> num = numeric(cells_[c].numerator);
    absl::optional<Decimal> den = numeric(cells_[c].denominator);
    if (!num || !den) continue;
    if (absl::optional<Decimal> share =
            (*num * Decimal::FromInt(100)).DividedBy(*den, kPercentDecimals)) {
      totals_[c].state = v1::VALUE_STATE_NUMBER;
      totals_[c].result = *share;
    }
  }
}

v1::CellValue RollupAccumulator::value(int cell) const {
  const Total& total = totals_[cell];
  switch (total.state) {
    case v1::VALUE_STATE_NUMBER:
      return Number(total.result);
    case v1::VALUE_STATE_DASH:
      return Dash();
    default:
      return Blank();
  }
}

ValueMap RollupAccumulator::Values() const {
  ValueMap out;
  for (int c = 0; c < cell_count(); ++c) {
    if (totals_[c].state == v1::VALUE_STATE_BLANK) continue;
    out[CellKey(column(c).id(), indicator(c).code())] = value(c);
  }
  return out;
}

ValueMap Rollup(const CatalogView& catalog, const std::vector<const ValueMap*>& children,
                absl::flat_hash_map<CellKey, int>* reporting) {
  RollupAccumulator rollup(catalog);
  for (const ValueMap* child : children) {
    rollup.StartChild("");
    for (const auto& [key, cell] : *child) {
      rollup.Add(rollup.Find(key.first, key.second), cell.state(), cell.number());
    }
  }
  rollup.Finish();
  if (reporting != nullptr) {
    for (int c = 0; c < rollup.cell_count(); ++c) {
      (*reporting)[CellKey(rollup.column(c).id(), rollup.indicator(c).code())] =
          rollup.reporting(c);
    }
  }
  return rollup.Values();
}

}  // namespace htx::indicator
