// The indicator service's domain rules as plain C++ over the contract's
// messages, testable without a server: exact decimals, the catalog and its
// checks, value checks, rule evaluation (findings), tables and roll-ups.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "htx/indicator/v1/indicator.pb.h"

namespace htx::indicator {

namespace v1 = ::htx::indicator::v1;

// An exact decimal (value × 10^-6 in an __int128): no float ever touches a
// figure. At most 6 fractional digits; magnitude below 10^24.
class Decimal {
 public:
  Decimal() = default;
  static Decimal FromInt(int64_t value);
  // "1234", "-12.5", "0.001". INVALID_ARGUMENT (naming `field`) for anything
  // else: thousands separators, exponents, more than `max_decimals` digits
  // after the point, a minus sign when `allow_negative` is false.
  static absl::StatusOr<Decimal> Parse(absl::string_view text, absl::string_view field,
                                       int max_decimals = 6, bool allow_negative = true);
  // Shortest exact text ("2745", "12.5"), or rounded half away from zero to
  // `decimals` digits when given.
  std::string ToString(absl::optional<int> decimals = absl::nullopt) const;

  Decimal operator+(const Decimal& o) const;
  Decimal operator-(const Decimal& o) const;
  Decimal operator*(const Decimal& o) const;
  // Rounded half away from zero to `decimals` (0..6) digits in one step, so
  // a percentage to 2 digits is never rounded twice; nullopt when dividing
  // by zero.
  absl::optional<Decimal> DividedBy(const Decimal& o, int decimals = 6) const;
  Decimal Abs() const;
  bool operator==(const Decimal& o) const { return scaled_ == o.scaled_; }
  bool operator!=(const Decimal& o) const { return scaled_ != o.scaled_; }
  bool operator<(const Decimal& o) const { return scaled_ < o.scaled_; }
  bool operator<=(const Decimal& o) const { return scaled_ <= o.scaled_; }

 private:
  // __extension__: the GCC/Clang 128-bit integer, without -Wpedantic's error.
  __extension__ typedef __int128 Int128;
  explicit Decimal(Int128 scaled) : scaled_(scaled) {}
  Int128 scaled_ = 0;
};

// The cells of one unit-year: (column id, indicator code) → value. A missing
// key is BLANK.
using CellKey = std::pair<std::string, std::string>;
using ValueMap = absl::flat_hash_map<CellKey, v1::CellValue>;

// A catalog checked and indexed. Indicators are kept in catalog order (tables
// in printed order, then sort_key).
class CatalogView {
 public:
  // Checks an import: catalog.year 2000..2100, table ids, column ids that
  // agree with kind and year ("actual_2024", "plan_2025", "estimate_2025",
  // "partial_2025_06_30"), unique codes, parents in the same table, relations
  // given for non-top-level rows, aggregation operands that exist, rules whose
  // operands exist, and so on; INVALID_ARGUMENT naming the field, e.g.
  // "indicators[12].weight_indicator".
  static absl::StatusOr<std::shared_ptr<const CatalogView>> Build(
      const v1::ImportCatalogRequest& request);

  const v1::Catalog& catalog() const { return catalog_; }
  const std::vector<v1::Indicator>& indicators() const { return indicators_; }
  const std::vector<v1::ValidationRule>& rules() const { return rules_; }
  const v1::Indicator* FindIndicator(absl::string_view code) const;
  const v1::CatalogTable* FindTable(absl::string_view table_id) const;
  // The column of an indicator's table, or nullptr.
  const v1::Column* FindColumn(const v1::Indicator& indicator, absl::string_view column_id) const;
  // The indicators of one table in order.
  std::vector<const v1::Indicator*> TableIndicators(absl::string_view table_id) const;

 private:
  v1::Catalog catalog_;
  std::vector<v1::Indicator> indicators_;
  std::vector<v1::ValidationRule> rules_;
  absl::flat_hash_map<std::string, size_t> by_code_;
};

// The parts of a value name "{unit}/indicator-values/{year}/{column}/{code}".
struct ValueName {
  std::string unit;
  int year = 0;
  std::string column;
  std::string code;
};
absl::StatusOr<ValueName> ParseValueName(absl::string_view name, absl::string_view field);
std::string FormatValueName(const ValueName& name);

// Checks one write against the catalog of its year: the name, the column
// declared for the indicator's table, not a heading, the cell state and the
// number (decimals, sign). INVALID_ARGUMENT naming `field` + ".name" /
// ".value.number" etc.
absl::Status CheckWrite(const CatalogView& catalog, const v1::ValueWrite& write,
                        absl::string_view field);

// The registry's figures for derived rows, by cell; null when the registry
// did not answer (registry rules are then NOT_CHECKABLE).
using RegistryFigures = ValueMap;

// Evaluates every rule of the catalog on every column it applies to, for one
// unit-year. Findings carry name, rule, kind, severity, column, outcome,
// left, right, operands and a Vietnamese message; explanations and etags are
// the caller's to add. An input that is BLANK (or a registry figure that is
// missing) makes the finding NOT_CHECKABLE, never a guess. Ordered by table,
// subject's catalog order, column.
std::vector<v1::Finding> EvaluateRules(const CatalogView& catalog, absl::string_view unit,
                                       const ValueMap& values, const RegistryFigures* registry);

// Counts for a FindingSummary (explanations as set on the findings).
v1::FindingSummary Summarize(const std::vector<v1::Finding>& findings);

// One appendix of a unit-year: rows in catalog order, a cell per column, the
// registry's figure beside derived rows in columns with registry_as_of,
// PERCENT_OF_PLAN and GROWTH ratios. unit/year/source/locked/findings are the
// caller's to fill.
absl::StatusOr<v1::IndicatorTable> BuildTable(const CatalogView& catalog,
                                              absl::string_view table_id, const ValueMap& values,
                                              const RegistryFigures* registry);

// Rolls children's own values up: sums summed, weighted averages weighted by
// their weight indicator (Σ value×weight ÷ Σ weight, rounded to max_decimals),
// shares recomputed from the rolled-up numerator and denominator, NONE blank.
// Dashes count as 0 for sums; a cell is DASH when every reporting child
// printed a dash and BLANK when none reported. `reporting` gets, per cell,
// how many children reported a number or a dash.
ValueMap Rollup(const CatalogView& catalog, const std::vector<const ValueMap*>& children,
                absl::flat_hash_map<CellKey, int>* reporting);

}  // namespace htx::indicator
