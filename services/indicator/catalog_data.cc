#include "services/indicator/catalog_data.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/csv/csv.h"
#include "common/status/status.h"
#include "services/indicator/indicator_logic.h"

namespace htx::indicator {
namespace {

using csv::ReadFile;
using csv::Record;
using csv::Where;

// ---- Catalog records -----------------------------------------------------------

bool ParseIsoDate(absl::string_view text, type::v1::Date* date) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  int y = 0, m = 0, d = 0;
  if (parts.size() != 3 || parts[0].size() != 4 || parts[1].size() != 2 || parts[2].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
      !absl::SimpleAtoi(parts[2], &d)) {
    return false;
  }
  date->set_year(y);
  date->set_month(m);
  date->set_day(d);
  return true;
}

// Kind, year and as_of from a column id; the id's full check is Build's.
bool FillColumn(absl::string_view id, v1::Column* column) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '_');
  int year = 0;
  if (parts.size() < 2 || parts[1].size() != 4 || !absl::SimpleAtoi(parts[1], &year)) return false;
  column->set_year(year);
  if (parts.size() == 2 && parts[0] == "actual") {
    column->set_kind(v1::COLUMN_KIND_ACTUAL);
  } else if (parts.size() == 2 && parts[0] == "plan") {
    column->set_kind(v1::COLUMN_KIND_PLAN);
  } else if (parts.size() == 2 && parts[0] == "estimate") {
    column->set_kind(v1::COLUMN_KIND_ESTIMATE);
  } else if (parts.size() == 4 && parts[0] == "partial") {
    int month = 0, day = 0;
    if (!absl::SimpleAtoi(parts[2], &month) || !absl::SimpleAtoi(parts[3], &day)) return false;
    column->set_kind(v1::COLUMN_KIND_PARTIAL_ACTUAL);
    column->mutable_as_of()->set_year(year);
    column->mutable_as_of()->set_month(month);
    column->mutable_as_of()->set_day(day);
  } else {
    return false;
  }
  return true;
}

absl::Status ParseDerivation(absl::string_view text, v1::RegistryDerivation* out,
                             const std::string& where) {
  std::vector<absl::string_view> halves = absl::StrSplit(text, ':');
  auto bad = [&](absl::string_view why) {
    return InvalidField(where, absl::StrCat("derivation \"", text, "\": ", why));
  };
  if (halves.size() != 2) return bad("expected <KIND>[/<SECTOR>]:<METRIC>[+<METRIC>...]");
  std::vector<absl::string_view> who = absl::StrSplit(halves[0], '/');
  registry::v1::OrganizationKind kind;
  if (!registry::v1::OrganizationKind_Parse(absl::StrCat("ORGANIZATION_KIND_", who[0]), &kind)) {
    return bad(absl::StrCat("unknown organisation kind ", who[0]));
  }
  out->set_kind(kind);
  if (who.size() == 2) {
    registry::v1::Sector sector;
    if (!registry::v1::Sector_Parse(absl::StrCat("SECTOR_", who[1]), &sector)) {
      return bad(absl::StrCat("unknown sector ", who[1]));
    }
    out->set_sector(sector);
  } else if (who.size() > 2) {
    return bad("one sector at most");
  }
  for (absl::string_view name : absl::StrSplit(halves[1], '+')) {
    v1::RegistryMetric metric;
    if (!v1::RegistryMetric_Parse(absl::StrCat("REGISTRY_METRIC_", name), &metric)) {
      return bad(absl::StrCat("unknown metric ", name));
    }
    out->add_metrics(metric);
  }
  return absl::OkStatus();
}

absl::Status ParseAggregation(absl::string_view text, v1::Indicator* ind,
                              const std::string& where) {
  if (text == "HEADING") {
    ind->set_heading(true);
    ind->set_aggregation(v1::AGGREGATION_NONE);
  } else if (text == "SUM") {
    ind->set_aggregation(v1::AGGREGATION_SUM);
  } else if (text == "NONE") {
    ind->set_aggregation(v1::AGGREGATION_NONE);
  } else if (absl::StartsWith(text, "AVG:")) {
    ind->set_aggregation(v1::AGGREGATION_WEIGHTED_AVERAGE);
    ind->set_weight_indicator(std::string(text.substr(4)));
  } else if (absl::StartsWith(text, "SHARE:") && text.find('/') != absl::string_view::npos) {
    const size_t slash = text.find('/');
    ind->set_aggregation(v1::AGGREGATION_SHARE);
    ind->set_numerator_indicator(std::string(text.substr(6, slash - 6)));
    ind->set_denominator_indicator(std::string(text.substr(slash + 1)));
  } else {
    return InvalidField(where, absl::StrCat("aggregation \"", text,
                                            "\" is not HEADING, SUM, NONE, AVG:<code> or "
                                            "SHARE:<numerator>/<denominator>"));
  }
  return absl::OkStatus();
}

absl::Status ParseRelation(absl::string_view text, v1::Indicator* ind, const std::string& where) {
  if (text.empty()) return absl::OkStatus();
  v1::ChildRelation relation;
  if (!v1::ChildRelation_Parse(absl::StrCat("CHILD_RELATION_", text), &relation) ||
      relation == v1::CHILD_RELATION_UNSPECIFIED) {
    return InvalidField(where, absl::StrCat("relation \"", text,
                                            "\" is not SECTION, BREAKDOWN, OF_WHICH or RELATED"));
  }
  ind->set_relation(relation);
  return absl::OkStatus();
}

absl::Status ParseCatalogRecords(absl::string_view text, absl::string_view source,
                                 v1::ImportCatalogRequest* request, std::string* rules_file) {
  absl::StatusOr<std::vector<Record>> records = csv::ReadRecords(text, source);
  if (!records.ok()) return records.status();
  v1::Catalog* catalog = request->mutable_catalog();
  absl::flat_hash_map<std::string, v1::CatalogTable*> tables;
  absl::flat_hash_map<std::string, int> rows_in_table;
  bool have_catalog = false;
  for (const Record& r : *records) {
    const std::string where = Where(source, r.line);
    const std::string& type = r.fields[0];
    auto width = [&](size_t n) -> absl::Status {
      if (r.fields.size() != n) {
        return InvalidField(where, absl::StrCat("a ", type, " record has ", n, " fields, this has ",
                                                r.fields.size()));
      }
      return absl::OkStatus();
    };
    auto table = [&](const std::string& id) -> absl::StatusOr<v1::CatalogTable*> {
      auto it = tables.find(id);
      if (it == tables.end()) {
        return InvalidField(where, absl::StrCat("table \"", id, "\" is not declared above"));
      }
      return it->second;
    };
    if (type != "catalog" && !have_catalog) {
      return InvalidField(where, "the first record is the catalog record");
    }
    if (type == "catalog") {
      absl::Status s = width(4);
      if (!s.ok()) return s;
      if (have_catalog) return InvalidField(where, "a second catalog record");
      int year = 0;
      if (!absl::SimpleAtoi(r.fields[1], &year)) {
        return InvalidField(where, absl::StrCat("year \"", r.fields[1], "\" is not a number"));
      }
      catalog->set_year(year);
      catalog->set_display_name(r.fields[2]);
      *rules_file = r.fields[3];
      have_catalog = true;
    } else if (type == "table") {
      absl::Status s = width(4);
      if (!s.ok()) return s;
      v1::CatalogTable* t = catalog->add_tables();
      t->set_id(r.fields[1]);
      t->set_heading(r.fields[2]);
      t->set_title(r.fields[3]);
      if (!tables.emplace(t->id(), t).second) {
        return InvalidField(where, absl::StrCat("table \"", t->id(), "\" is declared twice"));
      }
    } else if (type == "column") {
      absl::Status s = width(6);
      if (!s.ok()) return s;
      absl::StatusOr<v1::CatalogTable*> t = table(r.fields[1]);
      if (!t.ok()) return t.status();
      v1::Column* c = (*t)->add_columns();
      c->set_id(r.fields[2]);
      if (!FillColumn(c->id(), c)) {
        return InvalidField(where, absl::StrCat("column id \"", c->id(),
                                                "\" is not actual_{yyyy}, plan_{yyyy}, "
                                                "estimate_{yyyy} or partial_{yyyy}_{mm}_{dd}"));
      }
      c->set_label(r.fields[3]);
      c->set_group_label(r.fields[4]);
      if (!r.fields[5].empty() && !ParseIsoDate(r.fields[5], c->mutable_registry_as_of())) {
        return InvalidField(
            where, absl::StrCat("registry cut-off \"", r.fields[5], "\" is not YYYY-MM-DD"));
      }
    } else if (type == "note") {
      absl::Status s = width(3);
      if (!s.ok()) return s;
      absl::StatusOr<v1::CatalogTable*> t = table(r.fields[1]);
      if (!t.ok()) return t.status();
      (*t)->add_notes(r.fields[2]);
    } else if (type == "indicator") {
      absl::Status s = width(12);
      if (!s.ok()) return s;
      absl::StatusOr<v1::CatalogTable*> t = table(r.fields[1]);
      if (!t.ok()) return t.status();
      v1::Indicator* ind = request->add_indicators();
      ind->set_table(r.fields[1]);
      ind->set_code(r.fields[2]);
      ind->set_parent(r.fields[3]);
      s = ParseRelation(r.fields[4], ind, where);
      if (!s.ok()) return s;
      ind->set_sort_key(10 * ++rows_in_table[ind->table()]);
      ind->set_printed_number(r.fields[5]);
      ind->set_label(r.fields[6]);
      ind->set_unit_of_measure(r.fields[7]);
      s = ParseAggregation(r.fields[8], ind, where);
      if (!s.ok()) return s;
      int decimals = 0;
      if (!r.fields[9].empty() && !absl::SimpleAtoi(r.fields[9], &decimals)) {
        return InvalidField(where, absl::StrCat("decimals \"", r.fields[9], "\" is not a number"));
      }
      ind->set_max_decimals(decimals);
      if (r.fields[10] == "negative") {
        ind->set_allow_negative(true);
      } else if (!r.fields[10].empty()) {
        return InvalidField(where,
                            absl::StrCat("sign \"", r.fields[10], "\" is \"negative\" or empty"));
      }
      if (!r.fields[11].empty()) {
        s = ParseDerivation(r.fields[11], ind->mutable_derivation(), where);
        if (!s.ok()) return s;
      }
    } else {
      return InvalidField(where, absl::StrCat("unknown record type \"", type, "\""));
    }
  }
  if (!have_catalog) return InvalidField(std::string(source), "no catalog record");
  return absl::OkStatus();
}

constexpr absl::string_view kRulesHeader =
    "id,kind,severity,subject,parts,column_kinds,tolerance,description";

absl::Status ParseRules(absl::string_view text, absl::string_view source,
                        v1::ImportCatalogRequest* request) {
  absl::StatusOr<std::vector<Record>> records = csv::ReadRecords(text, source);
  if (!records.ok()) return records.status();
  if (records->empty() || absl::StrJoin((*records)[0].fields, ",") != kRulesHeader) {
    return InvalidField(std::string(source), absl::StrCat("the header is ", kRulesHeader));
  }
  const int year = request->catalog().year();
  for (size_t i = 1; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    const std::string where = Where(source, r.line);
    if (r.fields.size() != 8) {
      return InvalidField(where, absl::StrCat("a rule has 8 fields, this has ", r.fields.size()));
    }
    v1::ValidationRule* rule = request->add_rules();
    rule->set_name(absl::StrCat("catalogs/", year, "/rules/", r.fields[0]));
    v1::RuleKind kind;
    if (!v1::RuleKind_Parse(absl::StrCat("RULE_KIND_", r.fields[1]), &kind)) {
      return InvalidField(where, absl::StrCat("unknown rule kind \"", r.fields[1], "\""));
    }
    rule->set_kind(kind);
    v1::Severity severity;
    if (!v1::Severity_Parse(absl::StrCat("SEVERITY_", r.fields[2]), &severity)) {
      return InvalidField(where,
                          absl::StrCat("severity \"", r.fields[2], "\" is ERROR or WARNING"));
    }
    rule->set_severity(severity);
    rule->set_subject(r.fields[3]);
    for (absl::string_view part : absl::StrSplit(r.fields[4], ' ', absl::SkipEmpty())) {
      rule->add_parts(std::string(part));
    }
    for (absl::string_view name : absl::StrSplit(r.fields[5], ' ', absl::SkipEmpty())) {
      v1::ColumnKind column_kind;
      if (!v1::ColumnKind_Parse(absl::StrCat("COLUMN_KIND_", name), &column_kind)) {
        return InvalidField(where, absl::StrCat("unknown column kind \"", name, "\""));
      }
      rule->add_column_kinds(column_kind);
    }
    rule->set_tolerance(r.fields[6]);
    rule->set_description(r.fields[7]);
  }
  return absl::OkStatus();
}

// ---- Appendix CSVs -------------------------------------------------------------

// The indicator of `table` a CSV row code names: the code itself, or the code
// behind a letter prefix ("1.1" → "S1.1").
const v1::Indicator* MapCode(const CatalogView& view, const std::string& table,
                             absl::string_view code) {
  if (code.empty()) return nullptr;
  const v1::Indicator* exact = view.FindIndicator(code);
  if (exact != nullptr) return exact->table() == table ? exact : nullptr;
  if (!absl::ascii_isdigit(static_cast<unsigned char>(code[0]))) return nullptr;
  for (const v1::Indicator* ind : view.TableIndicators(table)) {
    absl::string_view c = ind->code();
    if (c.size() > code.size() && absl::EndsWith(c, code)) {
      absl::string_view prefix = c.substr(0, c.size() - code.size());
      if (std::all_of(prefix.begin(), prefix.end(), [](char ch) {
            return absl::ascii_isalpha(static_cast<unsigned char>(ch));
          })) {
        return ind;
      }
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<v1::ImportCatalogRequest> ParseCatalogText(absl::string_view catalog_text,
                                                          absl::string_view catalog_source,
                                                          absl::string_view rules_text,
                                                          absl::string_view rules_source) {
  v1::ImportCatalogRequest request;
  std::string rules_file;
  absl::Status s = ParseCatalogRecords(catalog_text, catalog_source, &request, &rules_file);
  if (s.ok()) s = ParseRules(rules_text, rules_source, &request);
  if (!s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(request);
  if (!view.ok()) return view.status();
  return request;
}

absl::StatusOr<v1::ImportCatalogRequest> LoadCatalogFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  v1::ImportCatalogRequest request;
  std::string rules_file;
  absl::Status s = ParseCatalogRecords(*text, path, &request, &rules_file);
  if (!s.ok()) return s;
  if (rules_file.empty()) return InvalidField(path, "the catalog record names no rules file");
  const size_t slash = path.rfind('/');
  const std::string rules_path = absl::StartsWith(rules_file, "/") || slash == std::string::npos
                                     ? rules_file
                                     : absl::StrCat(path.substr(0, slash + 1), rules_file);
  absl::StatusOr<std::string> rules_text = ReadFile(rules_path);
  if (!rules_text.ok()) return rules_text.status();
  return ParseCatalogText(*text, path, *rules_text, rules_path);
}

absl::StatusOr<std::vector<v1::ValueWrite>> ParseAppendixCsvText(
    absl::string_view text, absl::string_view source, const std::string& unit, int year,
    const v1::ImportCatalogRequest& catalog) {
  absl::StatusOr<std::shared_ptr<const CatalogView>> built = CatalogView::Build(catalog);
  if (!built.ok()) return built.status();
  const CatalogView& view = **built;
  if (year != view.catalog().year()) {
    return InvalidField("year",
                        absl::StrCat(year, " is not the catalog's year ", view.catalog().year()));
  }
  absl::StatusOr<std::vector<Record>> records = csv::ReadRecords(text, source);
  if (!records.ok()) return records.status();
  if (records->empty()) return InvalidField(std::string(source), "no header");
  const Record& header = (*records)[0];
  const std::string header_where = Where(source, header.line);
  int code_col = -1, parent_col = -1;
  std::vector<std::pair<int, std::string>> value_cols;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string& name = header.fields[i];
    v1::Column probe;
    if (name == "code") {
      code_col = static_cast<int>(i);
    } else if (name == "parent") {
      parent_col = static_cast<int>(i);
    } else if (name == "label_vi" || name == "unit" || name == "note") {
      // Descriptive: the catalog holds the labels and units.
    } else if (FillColumn(name, &probe)) {
      value_cols.emplace_back(static_cast<int>(i), name);
    } else {
      return InvalidField(header_where, absl::StrCat("header \"", name,
                                                     "\" is neither a column id nor one of code, "
                                                     "parent, label_vi, unit, note"));
    }
  }
  if (code_col < 0) return InvalidField(header_where, "no \"code\" column");
  if (value_cols.empty()) return InvalidField(header_where, "no value columns");

  // The table the file fits: every value column and every row code is its own.
  std::vector<std::string> misfits;
  const v1::CatalogTable* table = nullptr;
  for (const v1::CatalogTable& t : view.catalog().tables()) {
    std::string misfit;
    for (const auto& [index, id] : value_cols) {
      bool declared = false;
      for (const v1::Column& c : t.columns()) declared = declared || c.id() == id;
      if (!declared && misfit.empty()) misfit = absl::StrCat("no column ", id);
    }
    for (size_t i = 1; i < records->size() && misfit.empty(); ++i) {
      const Record& r = (*records)[i];
      const std::string code =
          code_col < static_cast<int>(r.fields.size()) ? r.fields[code_col] : "";
      if (MapCode(view, t.id(), code) == nullptr) {
        misfit = absl::StrCat("no row \"", code, "\" (line ", r.line, ")");
      }
    }
    if (!misfit.empty()) {
      misfits.push_back(absl::StrCat(t.id(), ": ", misfit));
    } else if (table != nullptr) {
      return InvalidField(std::string(source),
                          absl::StrCat("fits both ", table->id(), " and ", t.id()));
    } else {
      table = &t;
    }
  }
  if (table == nullptr) {
    return InvalidField(std::string(source),
                        absl::StrCat("fits no table of ", view.catalog().name(), " (",
                                     absl::StrJoin(misfits, "; "), ")"));
  }

  std::vector<v1::ValueWrite> writes;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 1; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    const std::string where = Where(source, r.line);
    if (r.fields.size() != header.fields.size()) {
      return InvalidField(
          where, absl::StrCat(r.fields.size(), " fields, the header has ", header.fields.size()));
    }
    const v1::Indicator* ind = MapCode(view, table->id(), r.fields[code_col]);
    if (!seen.insert(ind->code()).second) {
      return InvalidField(where, absl::StrCat("row ", r.fields[code_col], " appears twice"));
    }
    if (parent_col >= 0) {
      const std::string& parent = r.fields[parent_col];
      const v1::Indicator* mapped = parent.empty() ? nullptr : MapCode(view, table->id(), parent);
      const std::string mapped_code = mapped == nullptr ? parent : mapped->code();
      if (mapped_code != ind->parent()) {
        return InvalidField(
            where, absl::StrCat("row ", r.fields[code_col], " has parent \"", parent,
                                "\"; in the catalog its parent is \"", ind->parent(), "\""));
      }
    }
    for (const auto& [index, column] : value_cols) {
      const std::string field = absl::StrCat(where, ":", column);
      const absl::string_view cell = absl::StripAsciiWhitespace(r.fields[index]);
      if (ind->heading()) {
        if (!cell.empty()) {
          return InvalidField(field, absl::StrCat(ind->code(), " is a heading and has no values"));
        }
        continue;
      }
      v1::ValueWrite write;
      write.set_name(FormatValueName(ValueName{unit, year, column, ind->code()}));
      if (cell.empty()) {
        write.mutable_value()->set_state(v1::VALUE_STATE_BLANK);
      } else if (cell == "-") {
        write.mutable_value()->set_state(v1::VALUE_STATE_DASH);
      } else {
        absl::StatusOr<Decimal> number =
            Decimal::Parse(cell, field, ind->max_decimals(), ind->allow_negative());
        if (!number.ok()) return number.status();
        write.mutable_value()->set_state(v1::VALUE_STATE_NUMBER);
        write.mutable_value()->set_number(number->ToString());
      }
      absl::Status s = CheckWrite(view, write, field);
      if (!s.ok()) return s;
      writes.push_back(std::move(write));
    }
  }
  return writes;
}

absl::StatusOr<std::vector<v1::ValueWrite>> ParseAppendixCsv(
    const std::string& path, const std::string& unit, int year,
    const v1::ImportCatalogRequest& catalog) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseAppendixCsvText(*text, path, unit, year, catalog);
}

}  // namespace htx::indicator
