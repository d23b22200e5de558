// The budget service's domain rules as plain C++ over the contract's messages,
// testable without a server: exact money in đồng, the catalog of policy lines,
// checks on needs, computed totals, findings and disbursement rates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "htx/budget/v1/budget.pb.h"

namespace htx::budget {

namespace v1 = ::htx::budget::v1;

// An amount of money in integer đồng. Documents print million đồng (triệu
// đồng) with at most three decimals, in Vietnamese notation: ',' is the
// decimal separator and '.' groups thousands ("138,971" = 138 971 000 đồng,
// "19.498" = 19 498 000 000 đồng). Plain digits ("19498") are accepted too,
// since transcribed CSVs write them that way.
class Money {
 public:
  constexpr Money() = default;
  static constexpr Money FromDong(int64_t dong) { return Money(dong); }
  // INVALID_ARGUMENT naming `field` for an empty text, a sign, a malformed
  // grouping, more than 3 decimals (below 1 000 đồng, which no document
  // prints) or an amount beyond int64 đồng.
  static absl::StatusOr<Money> ParseMillions(absl::string_view text, absl::string_view field);
  // The inverse: "19.498", "138,971", "0"; more decimals only when the amount
  // is not a whole 1 000 đồng, so the text is always exact.
  std::string FormatMillions() const;
  // Sum, or INVALID_ARGUMENT naming `field` when it leaves int64 đồng.
  static absl::StatusOr<Money> CheckedAdd(Money a, Money b, absl::string_view field);

  int64_t dong() const { return dong_; }
  bool operator==(Money o) const { return dong_ == o.dong_; }
  bool operator!=(Money o) const { return dong_ != o.dong_; }

 private:
  constexpr explicit Money(int64_t dong) : dong_(dong) {}
  int64_t dong_ = 0;
};

// Sets total_dong to the sum of the sources present (cleared when all are
// blank). INVALID_ARGUMENT naming `field`.total_dong on overflow.
absl::Status ComputeTotal(v1::SourceAmounts* amounts, absl::string_view field);
// Adds `add` into `sum` source by source; a source stays blank only when it is
// blank on both sides. The total is recomputed.
absl::Status AddAmounts(const v1::SourceAmounts& add, v1::SourceAmounts* sum,
                        absl::string_view field);

// A catalog checked and indexed; lines in catalog order (tables in printed
// order, then sort_key), with name and has_children filled in.
class CatalogView {
 public:
  // Checks an import: year 2000..2100, table ids and kinds, line codes unique
  // and well formed, tables that exist, parents in the same table and no
  // cycles, sort keys unique per table, labels present. INVALID_ARGUMENT
  // naming the field, e.g. "lines[3].parent".
  static absl::StatusOr<std::shared_ptr<const CatalogView>> Build(
      const v1::ImportCatalogRequest& request);

  const v1::Catalog& catalog() const { return catalog_; }
  const std::vector<v1::Line>& lines() const { return lines_; }
  const v1::Line* FindLine(absl::string_view code) const;
  const v1::CatalogTable* FindTable(absl::string_view id) const;
  // Direct children of a line, in catalog order.
  std::vector<const v1::Line*> Children(absl::string_view code) const;

 private:
  v1::Catalog catalog_;
  std::vector<v1::Line> lines_;
  absl::flat_hash_map<std::string, size_t> by_code_;
};

// Checks a need's inputs against its line: beneficiaries >= 0, amounts >= 0,
// no planned amounts on a line with children (they are computed), only the
// unspecified amount on a line without source_split, stated total >= 0.
// INVALID_ARGUMENT naming `field` + ".planned.central_dong" etc.
absl::Status CheckNeed(const CatalogView& catalog, const v1::Need& need, absl::string_view field);

// A unit-year's own needs by line code (leaf amounts as entered).
using NeedMap = absl::flat_hash_map<std::string, v1::Need>;

// The needs as they are read: every line with data of its own or in a
// descendant, in catalog order, totals computed and parents' planned amounts
// the sums of their children's. A parent keeps its own beneficiaries, stated
// total and note. INVALID_ARGUMENT on overflow, naming the line.
absl::StatusOr<std::vector<v1::Need>> ComputeNeeds(const CatalogView& catalog, const NeedMap& own);

// A funding record with the line it is against.
struct LineRecord {
  std::string line;
  const v1::FundingRecord* record = nullptr;
};
// Fills the execution of `needs` (as ComputeNeeds returns them) from
// `records`: a leaf line's allocations and disbursements summed by source, a
// parent's the sums of its children's, the latest disbursement date, and the
// rates against the planned total. Records of lines absent from `needs` are
// ignored (a record's need always exists). INVALID_ARGUMENT on overflow.
absl::Status AddExecution(const CatalogView& catalog, const std::vector<LineRecord>& records,
                          std::vector<v1::Need>* needs);

// The registry's stock of organisations (all kinds) in the unit on 31/12 of
// the year before the plan year; unset when the registry did not answer.
struct RegistryStock {
  absl::optional<int64_t> organizations;
};

// Evaluates the checks on computed needs (with execution, when known):
// STATED_TOTAL (ERROR), SOURCE_SPLIT_MISSING, OVER_DISBURSED (leaf lines),
// PRINTED_UNCLEAR and, when `stock` is given, BENEFICIARIES_VS_REGISTRY on
// ORGANIZATIONS lines (all WARNING). Findings carry name, check, severity,
// line, outcome, stated, expected, message and blocks_submission
// (explanations are the caller's to add). A stated total is compared with the
// computed total, and the message shows both with the parts: "Tổng 19.498 ≠
// 3.274 + 16.224 (triệu đồng)". A blank input makes a check NOT_CHECKABLE.
std::vector<v1::Finding> EvaluateFindings(const CatalogView& catalog, absl::string_view unit,
                                          const std::vector<v1::Need>& needs,
                                          const RegistryStock* stock = nullptr);

// The id of a check in finding names ("stated-total"), and back
// (UNSPECIFIED for an unknown id).
const char* CheckId(v1::BudgetCheck check);
v1::BudgetCheck CheckFromId(absl::string_view id);

// disbursed ÷ planned in basis points (5900 = 59,00 %), rounded half away
// from zero; nullopt when the plan is 0 or negative.
absl::optional<int32_t> DisbursementRateBp(int64_t disbursed_dong, int64_t planned_dong);
// A rate in basis points as a percent with 2 decimals, Vietnamese: "59,00".
std::string FormatPercentBp(int32_t bp);

}  // namespace htx::budget
