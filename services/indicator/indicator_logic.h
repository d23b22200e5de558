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

// Rolls children's own values up, one child at a time, so that a roll-up of
// thousands of units holds one child's cells and one running total per
// catalog cell, never every child's map: sums summed, weighted averages
// weighted by their weight indicator (Σ value×weight ÷ Σ weight over the
// children, rounded once to max_decimals; a child whose weight is blank, a
// dash or 0 cannot be weighted), shares recomputed from the rolled-up
// numerator and denominator, NONE blank. Dashes count as 0 for sums; a cell
// is DASH when every reporting child printed a dash and BLANK when none
// reported.
//
// Cells are indexed densely in catalog order (indicators, then their table's
// columns; no headings), which is also the order GetRollup answers in.
class RollupAccumulator {
 public:
  // `catalog` must outlive the accumulator.
  explicit RollupAccumulator(const CatalogView& catalog);

  // The cells in catalog order.
  int cell_count() const { return static_cast<int>(cells_.size()); }
  const v1::Indicator& indicator(int cell) const { return *cells_[cell].indicator; }
  const v1::Column& column(int cell) const { return *cells_[cell].column; }
  // The cell of "{column}|{code}" (the tail of a stored value's key), or -1
  // when a roll-up has no such cell (an unknown code, a heading, a column
  // not in the indicator's table).
  int Find(absl::string_view column_and_code) const;
  int Find(absl::string_view column, absl::string_view code) const;

  // Starts the next child, named `unit`; the previous child's cells are
  // added in. A child's cells must all come before the next child's.
  void StartChild(absl::string_view unit);
  // One cell of the current child (`cell` -1 only marks that the child
  // reported something when the state does). False when a NUMBER's text is
  // not a decimal: the caller's record is corrupt, and nothing is added.
  bool Add(int cell, v1::ValueState state, absl::string_view number);
  // Adds in the children of `other` (built over the same catalog, e.g. the
  // other half of a scan run on two threads); silent units end up in name
  // order.
  void Merge(RollupAccumulator& other);
  // Adds the last child in and computes every cell; nothing may be added
  // after.
  void Finish();

  // After Finish: the rolled-up figure (BLANK when nothing) and how many
  // children reported a number or a dash.
  v1::CellValue value(int cell) const;
  int reporting(int cell) const { return totals_[cell].reported; }
  // The children started, and those of them that reported nothing at all, in
  // the order started.
  int children() const { return children_; }
  const std::vector<std::string>& silent_units() const { return silent_; }
  // After Finish: every non-blank rolled-up figure, as a unit's values.
  ValueMap Values() const;

 private:
  struct Cell {
    const v1::Indicator* indicator = nullptr;
    const v1::Column* column = nullptr;
    int weight = -1;     // weighted averages: the weight's cell in the same column
    int numerator = -1;  // shares: the operands' cells in the same column
    int denominator = -1;
  };
  // The current child's figure of a cell; valid when `child` is the current
  // child's number.
  struct Own {
    int child = -1;
    bool dash = false;
    Decimal number;
  };
  struct Total {
    int reported = 0;
    int dashes = 0;
    bool any_number = false;
    Decimal sum, weighted, weights;
    // After Finish.
    v1::ValueState state = v1::VALUE_STATE_BLANK;
    Decimal result;
  };
  void EndChild();

  std::vector<Cell> cells_;
  absl::flat_hash_map<std::string, int> by_key_;  // "{column}|{code}"
  std::vector<Own> own_;
  std::vector<int> touched_;  // the current child's cells, in arrival order
  std::vector<Total> totals_;
  int children_ = 0;
  bool open_ = false;  // a child is started and not yet added in
  std::string unit_;
  bool unit_reported_ = false;
  std::vector<std::string> silent_;
};

// The same over whole maps (a map per child): children[i] named "".
ValueMap Rollup(const CatalogView& catalog, const std::vector<const ValueMap*>& children,
                absl::flat_hash_map<CellKey, int>* reporting);

}  // namespace htx::indicator
