// The budget catalog and Phụ lục III as files: the catalog shipped in
// services/budget/data (its format is described at the top of
// catalog-2026.csv) and the Phụ lục III layout of ../shared/domain/hanoi-2026
// ("code,parent,label_vi,beneficiaries,beneficiary_unit,total,central,local,
// other,note"; amounts in million đồng, blank = not reported).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "htx/budget/v1/budget.pb.h"
#include "services/budget/budget_logic.h"

namespace htx::budget {

// The shipped catalog of the 2026 plans, relative to the project root.
inline constexpr char kCatalog2026Path[] = "services/budget/data/catalog-2026.csv";

// Reads a catalog file into an import request, checked with
// CatalogView::Build. INVALID_ARGUMENT naming "<file>:<line>" for a malformed
// record, the Build error for a broken catalog, NOT_FOUND when the file cannot
// be read.
absl::StatusOr<v1::ImportCatalogRequest> LoadCatalogFile(const std::string& path);
absl::StatusOr<v1::ImportCatalogRequest> ParseCatalogText(absl::string_view text,
                                                          absl::string_view source);

// What a Phụ lục III file yields for one unit-year.
struct PhuLuc3Import {
  // The unit's needs as entered (leaf amounts, counts, stated totals, what
  // the printed table leaves unclear), in file order, each checked with
  // CheckNeed.
  std::vector<v1::Need> needs;
};

// Reads a Phụ lục III CSV. Rows are matched to catalog lines by code (the
// parent must agree). A leaf row's printed sources become the planned
// amounts; a total printed without any source becomes unspecified_dong (a
// SOURCE_SPLIT_MISSING finding later), otherwise a printed total is the
// stated total. A parent row's printed total is its stated total and its
// printed sources, which cannot be stored (parents are computed), must equal
// the children's sums or are noted in Need.unclear. Every non-empty note goes
// to Need.unclear (a PRINTED_UNCLEAR finding); a quoted "note: '...'" inside
// it is the printed Ghi chú and goes to Need.note. Errors name "<file>:<line>" and the column.
absl::StatusOr<PhuLuc3Import> ParsePhuLuc3Csv(const std::string& path, const std::string& unit,
                                              const CatalogView& catalog);
absl::StatusOr<PhuLuc3Import> ParsePhuLuc3Text(absl::string_view text, absl::string_view source,
                                               const std::string& unit, const CatalogView& catalog);

}  // namespace htx::budget
