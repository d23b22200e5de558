#include "services/budget/catalog_data.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/csv/csv.h"
#include "common/status/status.h"

namespace htx::budget {
namespace {

using csv::ReadFile;
using csv::Record;
using csv::Where;

// ---- catalog records -----------------------------------------------------------

absl::StatusOr<v1::FundingKind> ParseFundingKind(absl::string_view text, absl::string_view field) {
  if (text == "RECURRENT") return v1::FUNDING_KIND_RECURRENT;
  if (text == "INVESTMENT") return v1::FUNDING_KIND_INVESTMENT;
  return InvalidField(field, absl::StrCat("funding kind \"", text, "\": RECURRENT | INVESTMENT"));
}

absl::StatusOr<v1::BeneficiaryKind> ParseBeneficiaryKind(absl::string_view text,
                                                         absl::string_view field) {
  if (text.empty()) return v1::BENEFICIARY_KIND_UNSPECIFIED;
  if (text == "PEOPLE") return v1::BENEFICIARY_KIND_PEOPLE;
  if (text == "ORGANIZATIONS") return v1::BENEFICIARY_KIND_ORGANIZATIONS;
  if (text == "OTHER") return v1::BENEFICIARY_KIND_OTHER;
  return InvalidField(field, absl::StrCat("beneficiary kind \"", text,
                                          "\": PEOPLE | ORGANIZATIONS | OTHER | empty"));
}

}  // namespace

absl::StatusOr<v1::ImportCatalogRequest> ParseCatalogText(absl::string_view text,
                                                          absl::string_view source) {
  absl::StatusOr<std::vector<Record>> records = csv::ReadRecords(text, source);
  if (!records.ok()) return records.status();
  v1::ImportCatalogRequest request;
  bool have_catalog = false;
  absl::flat_hash_map<std::string, int> next_sort_key;
  for (const Record& r : *records) {
    const std::string where = Where(source, r.line);
    const std::vector<std::string>& f = r.fields;
    auto arity = [&](size_t n) -> absl::Status {
      if (f.size() != n) {
        return InvalidField(where,
                            absl::StrCat("\"", f[0], "\" takes ", n, " fields, got ", f.size()));
      }
      return absl::OkStatus();
    };
    if (f[0] == "catalog") {
      if (absl::Status s = arity(3); !s.ok()) return s;
      if (have_catalog) return InvalidField(where, "a second catalog record");
      int year = 0;
      if (!absl::SimpleAtoi(f[1], &year)) return InvalidField(where, "the year is not a number");
      request.mutable_catalog()->set_year(year);
      request.mutable_catalog()->set_display_name(f[2]);
      have_catalog = true;
    } else if (f[0] == "table") {
      if (absl::Status s = arity(5); !s.ok()) return s;
      v1::CatalogTable* table = request.mutable_catalog()->add_tables();
      table->set_id(f[1]);
      absl::StatusOr<v1::FundingKind> kind = ParseFundingKind(f[2], where);
      if (!kind.ok()) return kind.status();
      table->set_funding_kind(*kind);
      table->set_heading(f[3]);
      table->set_title(f[4]);
    } else if (f[0] == "note") {
      if (absl::Status s = arity(3); !s.ok()) return s;
      v1::CatalogTable* table = nullptr;
      for (v1::CatalogTable& t : *request.mutable_catalog()->mutable_tables()) {
        if (t.id() == f[1]) table = &t;
      }
      if (table == nullptr)
        return InvalidField(where, absl::StrCat("no table \"", f[1], "\" above"));
      table->add_notes(f[2]);
    } else if (f[0] == "line") {
      if (absl::Status s = arity(9); !s.ok()) return s;
      v1::Line* line = request.add_lines();
      line->set_table(f[1]);
      line->set_code(f[2]);
      line->set_parent(f[3]);
      line->set_printed_number(f[4]);
      line->set_label(f[5]);
      if (f[6] != "yes" && f[6] != "no") return InvalidField(where, "source_split: yes | no");
      line->set_source_split(f[6] == "yes");
      line->set_beneficiary_unit(f[7]);
      absl::StatusOr<v1::BeneficiaryKind> kind = ParseBeneficiaryKind(f[8], where);
      if (!kind.ok()) return kind.status();
      line->set_beneficiary_kind(*kind);
      // File order is catalog order; gaps of 10 leave room for later inserts.
      line->set_sort_key(next_sort_key[f[1]] += 10);
    } else {
      return InvalidField(where, absl::StrCat("unknown record \"", f[0], "\""));
    }
  }
  if (!have_catalog) return InvalidField(source, "no catalog record");
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(request);
  if (!view.ok()) return view.status();
  return request;
}

absl::StatusOr<v1::ImportCatalogRequest> LoadCatalogFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseCatalogText(*text, path);
}

// ---- Phụ lục III -----------------------------------------------------------------

absl::StatusOr<PhuLuc3Import> ParsePhuLuc3Text(absl::string_view text, absl::string_view source,
                                               const std::string& unit,
                                               const CatalogView& catalog) {
  static const char* const kHeader[] = {
      "code",  "parent",  "label_vi", "beneficiaries", "beneficiary_unit",
      "total", "central", "local",    "other",         "note"};
  absl::StatusOr<std::vector<Record>> records = csv::ReadRecords(text, source);
  if (!records.ok()) return records.status();
  if (records->empty()) return InvalidField(source, "no header");
  const Record& header = records->front();
  if (header.fields.size() != 10 ||
      !std::equal(header.fields.begin(), header.fields.end(), std::begin(kHeader))) {
    return InvalidField(Where(source, header.line),
                        "header must be code,parent,label_vi,beneficiaries,beneficiary_unit,"
                        "total,central,local,other,note");
  }
  const int year = catalog.catalog().year();
  PhuLuc3Import out;
  NeedMap own;
  // Printed sources of parent rows, checked once the children are summed.
  struct ParentPrint {
    std::string code;
    absl::optional<int64_t> sources[3];
  };
  std::vector<ParentPrint> parent_prints;
  for (size_t r = 1; r < records->size(); ++r) {
    const Record& rec = (*records)[r];
    const std::string where = Where(source, rec.line);
    const std::vector<std::string>& f = rec.fields;
    if (f.size() != 10)
      return InvalidField(where, absl::StrCat("10 fields expected, got ", f.size()));
    const v1::Line* line = catalog.FindLine(f[0]);
    if (line == nullptr) {
      return InvalidField(where + " code",
                          absl::StrCat("no line \"", f[0], "\" in ", catalog.catalog().name()));
    }
    if (line->parent() != f[1]) {
      return InvalidField(where + " parent", absl::StrCat("the catalog's parent of ", f[0],
                                                          " is \"", line->parent(), "\""));
    }
    auto amount = [&](int column, const char* name) -> absl::StatusOr<absl::optional<int64_t>> {
      if (f[column].empty()) return absl::optional<int64_t>();
      absl::StatusOr<Money> m = Money::ParseMillions(f[column], absl::StrCat(where, " ", name));
      if (!m.ok()) return m.status();
      return absl::optional<int64_t>(m->dong());
    };
    absl::StatusOr<absl::optional<int64_t>> total = amount(5, "total");
    if (!total.ok()) return total.status();
    absl::optional<int64_t> sources[3];
    const char* names[] = {"central", "local", "other"};
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<absl::optional<int64_t>> a = amount(6 + i, names[i]);
      if (!a.ok()) return a.status();
      sources[i] = *a;
    }
    const bool any_source = sources[0] || sources[1] || sources[2];

    v1::Need need;
    need.set_name(absl::StrCat(unit, "/budget-needs/", year, "/", line->code()));
    need.set_unit(unit);
    need.set_year(year);
    need.set_line(line->code());
    bool data = false;
    if (!f[3].empty()) {
      int64_t count = 0;
      if (!absl::SimpleAtoi(f[3], &count) || count < 0) {
        return InvalidField(where + " beneficiaries",
                            absl::StrCat("\"", f[3], "\" is not a count"));
      }
      need.set_beneficiaries(count);
      data = true;
    }
    // An empty beneficiary_unit means the line's: store only what differs.
    if (!f[4].empty() && f[4] != line->beneficiary_unit()) need.set_beneficiary_unit(f[4]);
    if (line->has_children()) {
      if (*total) need.set_stated_total_dong(**total);
      if (any_source) {
        ParentPrint print{line->code(), {sources[0], sources[1], sources[2]}};
        parent_prints.push_back(std::move(print));
      }
      data = data || *total || any_source;
    } else {
      v1::SourceAmounts* planned = need.mutable_planned();
      if (sources[0]) planned->set_central_dong(*sources[0]);
      if (sources[1]) planned->set_local_dong(*sources[1]);
      if (sources[2]) planned->set_other_dong(*sources[2]);
      if (*total) {
        // Without a printed split the total is the only figure: an
        // unspecified amount, not a stated total checked against itself.
        if (any_source) {
          need.set_stated_total_dong(**total);
        } else {
          planned->set_unspecified_dong(**total);
        }
      }
      data = data || *total || any_source;
    }
    const std::string& note = f[9];
    if (!note.empty()) {
      need.add_unclear(absl::StrCat("Bảng in chưa rõ ở dòng ", line->code(), ": ", note,
                                    " — giữ nguyên số liệu như bản in"));
      data = true;
      // The printed Ghi chú, as the transcriber quoted it.
      size_t at = note.find("note: '");
      if (at != std::string::npos) {
        size_t begin = at + 7, end = note.find('\'', begin);
        if (end != std::string::npos) need.set_note(note.substr(begin, end - begin));
      }
    }
    if (!data) continue;
    absl::Status s = CheckNeed(catalog, need, where);
    if (!s.ok()) return s;
    if (!own.emplace(line->code(), need).second) {
      return InvalidField(where + " code", absl::StrCat("line ", line->code(), " appears twice"));
    }
    out.needs.push_back(std::move(need));
  }

  absl::StatusOr<std::vector<v1::Need>> computed = ComputeNeeds(catalog, own);
  if (!computed.ok()) return computed.status();
  absl::flat_hash_map<std::string, const v1::Need*> by_code;
  for (const v1::Need& need : *computed) by_code[need.line()] = &need;
  // A parent printed with sources has data, so its need is among out.needs.
  auto need_of = [&](const std::string& code) {
    return &*std::find_if(out.needs.begin(), out.needs.end(),
                          [&](const v1::Need& need) { return need.line() == code; });
  };
  for (const ParentPrint& print : parent_prints) {
    const v1::SourceAmounts& sums = by_code[print.code]->planned();
    const absl::optional<int64_t> computed_sources[3] = {
        sums.has_central_dong() ? absl::optional<int64_t>(sums.central_dong()) : absl::nullopt,
        sums.has_local_dong() ? absl::optional<int64_t>(sums.local_dong()) : absl::nullopt,
        sums.has_other_dong() ? absl::optional<int64_t>(sums.other_dong()) : absl::nullopt};
    const char* labels[] = {"trung ương", "địa phương", "khác"};
    for (int i = 0; i < 3; ++i) {
      if (print.sources[i] == computed_sources[i] || !print.sources[i]) continue;
      std::string sum = computed_sources[i] ? Money::FromDong(*computed_sources[i]).FormatMillions()
                                            : std::string("trống");
      need_of(print.code)
          ->add_unclear(absl::StrCat("Dòng ", print.code, " in nguồn ", labels[i], " ",
                                     Money::FromDong(*print.sources[i]).FormatMillions(),
                                     " ≠ tổng các dòng con ", sum, " (triệu đồng)"));
    }
  }
  return out;
}

absl::StatusOr<PhuLuc3Import> ParsePhuLuc3Csv(const std::string& path, const std::string& unit,
                                              const CatalogView& catalog) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParsePhuLuc3Text(*text, path, unit, catalog);
}

}  // namespace htx::budget
