// The indicator catalog and the appendix tables as files: the catalog shipped
// in services/indicator/data (its format is described at the top of
// catalog-2026.csv and catalog-2026-rules.csv) and the appendix CSV layout of
// ../shared/domain/hanoi-2026 (one row per indicator, one column per table
// column, blank = not reported, "-" = printed dash).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "htx/indicator/v1/indicator.pb.h"

namespace htx::indicator {

namespace v1 = ::htx::indicator::v1;

// The shipped catalog of the 2026 plans, relative to the project root.
inline constexpr char kCatalog2026Path[] = "services/indicator/data/catalog-2026.csv";

// Reads a catalog file and the rules file it names (relative to it) into an
// import request, checked with CatalogView::Build. INVALID_ARGUMENT naming
// "<file>:<line>" for a malformed record, the Build error for a broken
// catalog, NOT_FOUND when a file cannot be read.
absl::StatusOr<v1::ImportCatalogRequest> LoadCatalogFile(const std::string& path);
// The same from text; `rules_text` is the rules file's content.
absl::StatusOr<v1::ImportCatalogRequest> ParseCatalogText(absl::string_view catalog_text,
                                                          absl::string_view catalog_source,
                                                          absl::string_view rules_text,
                                                          absl::string_view rules_source);

// Reads an appendix CSV ("code,parent,label_vi,unit,<column ids>...") into one
// write per indicator row and column, named "{unit}/indicator-values/{year}/
// {column}/{code}": an empty cell is BLANK, "-" is DASH, anything else a
// number written plainly (the CSVs print 2675, not 2,675 or 2.675). The table
// is the one whose columns and codes the file fits; a row code is the catalog
// code or, for tables that print the same numbering, the catalog code without
// its letter prefix (the CSV's "1.1" is Phụ lục II's "S1.1"). Heading rows
// must be empty and yield no writes. Each write is checked with CheckWrite;
// errors name "<file>:<line>" and the column.
absl::StatusOr<std::vector<v1::ValueWrite>> ParseAppendixCsv(
    const std::string& path, const std::string& unit, int year,
    const v1::ImportCatalogRequest& catalog);
absl::StatusOr<std::vector<v1::ValueWrite>> ParseAppendixCsvText(
    absl::string_view text, absl::string_view source, const std::string& unit, int year,
    const v1::ImportCatalogRequest& catalog);

}  // namespace htx::indicator
