#include "services/budget/budget_logic.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"

namespace htx::budget {
namespace {

constexpr int64_t kDongPerMillion = 1000000;

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Appends the digits of `s` to `acc`; false on int64 overflow.
bool AccumulateDigits(absl::string_view s, int64_t* acc) {
  for (char c : s) {
    if (__builtin_mul_overflow(*acc, int64_t{10}, acc) ||
        __builtin_add_overflow(*acc, static_cast<int64_t>(c - '0'), acc)) {
      return false;
    }
  }
  return true;
}

// "1.234.567" with '.' between groups of three.
std::string GroupThousands(int64_t value) {
  std::string digits = absl::StrCat(value);
  std::string out;
  int lead = static_cast<int>(digits.size() % 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (static_cast<int>(i) - lead) % 3 == 0) out.push_back('.');
    out.push_back(digits[i]);
  }
  return out;
}

bool ValidTableId(absl::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool ValidCode(absl::string_view code) {
  return !code.empty() && code.size() <= 32 && std::all_of(code.begin(), code.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  });
}

std::string Millions(int64_t dong) { return Money::FromDong(dong).FormatMillions(); }

}  // namespace

// ---- Money ----------------------------------------------------------------------

absl::StatusOr<Money> Money::ParseMillions(absl::string_view text, absl::string_view field) {
  if (text.empty()) return InvalidField(field, "empty amount");
  if (text[0] == '-') return InvalidField(field, absl::StrCat("negative amount \"", text, "\""));
  std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  if (parts.size() > 2) {
    return InvalidField(field, absl::StrCat("\"", text, "\" has more than one decimal comma"));
  }
  // Groups must be exactly three digits after the first, so that "19.5" (a
  // foreign decimal point) is refused rather than read as 195 million.
  std::vector<absl::string_view> groups = absl::StrSplit(parts[0], '.');
  int64_t whole = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    bool ok = AllDigits(groups[i]) &&
              (groups.size() == 1 || (i == 0 ? groups[i].size() <= 3 : groups[i].size() == 3));
    if (!ok) {
      return InvalidField(field,
                          absl::StrCat("\"", text, "\" is not million đồng written as 1.234,567"));
    }
    if (!AccumulateDigits(groups[i], &whole)) {
      return InvalidField(field, absl::StrCat("\"", text, "\" exceeds the largest amount"));
    }
  }
  int64_t thousands = 0;  // the decimals, in 1 000 đồng
  if (parts.size() == 2) {
    absl::string_view decimals = parts[1];
    if (!AllDigits(decimals)) {
      return InvalidField(field, absl::StrCat("\"", text, "\" has malformed decimals"));
    }
    if (decimals.size() > 3) {
      return InvalidField(field,
                          absl::StrCat("\"", text, "\" has more than 3 decimals of million đồng"));
    }
    AccumulateDigits(decimals, &thousands);
    for (size_t i = decimals.size(); i < 3; ++i) thousands *= 10;
  }
  int64_t dong = 0;
  if (__builtin_mul_overflow(whole, kDongPerMillion, &dong) ||
      __builtin_add_overflow(dong, thousands * 1000, &dong)) {
    return InvalidField(field, absl::StrCat("\"", text, "\" exceeds the largest amount"));
  }
  return Money(dong);
}

std::string Money::FormatMillions() const {
  // Negative amounts never enter, but a difference may be printed.
  uint64_t magnitude = dong_ < 0 ? 0 - static_cast<uint64_t>(dong_) : static_cast<uint64_t>(dong_);
  std::string out = dong_ < 0 ? "-" : "";
  absl::StrAppend(&out, GroupThousands(static_cast<int64_t>(magnitude / kDongPerMillion)));
  uint64_t rest = magnitude % kDongPerMillion;
  if (rest != 0) {
    std::string decimals = absl::StrCat(rest);
    decimals.insert(0, 6 - decimals.size(), '0');
    while (decimals.back() == '0') decimals.pop_back();
    absl::StrAppend(&out, ",", decimals);
  }
  return out;
}

absl::StatusOr<Money> Money::CheckedAdd(Money a, Money b, absl::string_view field) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a.dong_, b.dong_, &sum)) {
    return InvalidField(field, "the sum exceeds the largest amount (int64 đồng)");
  }
  return Money(sum);
}

// ---- amounts --------------------------------------------------------------------

absl::Status ComputeTotal(v1::SourceAmounts* amounts, absl::string_view field) {
  amounts->clear_total_dong();
  bool any = false;
  Money total;
  const std::string total_field = absl::StrCat(field, ".total_dong");
  auto add = [&](bool has, int64_t value) -> absl::Status {
    if (!has) return absl::OkStatus();
    any = true;
    absl::StatusOr<Money> sum = Money::CheckedAdd(total, Money::FromDong(value), total_field);
    if (!sum.ok()) return sum.status();
    total = *sum;
    return absl::OkStatus();
  };
  absl::Status s = add(amounts->has_central_dong(), amounts->central_dong());
  if (s.ok()) s = add(amounts->has_local_dong(), amounts->local_dong());
  if (s.ok()) s = add(amounts->has_other_dong(), amounts->other_dong());
  if (s.ok()) s = add(amounts->has_unspecified_dong(), amounts->unspecified_dong());
  if (!s.ok()) return s;
  if (any) amounts->set_total_dong(total.dong());
  return absl::OkStatus();
}

absl::Status AddAmounts(const v1::SourceAmounts& add, v1::SourceAmounts* sum,
                        absl::string_view field) {
  struct Source {
    bool (v1::SourceAmounts::*has)() const;
    int64_t (v1::SourceAmounts::*get)() const;
    void (v1::SourceAmounts::*set)(int64_t);
    const char* name;
  };
  static constexpr Source kSources[] = {
      {&v1::SourceAmounts::has_central_dong, &v1::SourceAmounts::central_dong,
       &v1::SourceAmounts::set_central_dong, "central_dong"},
      {&v1::SourceAmounts::has_local_dong, &v1::SourceAmounts::local_dong,
       &v1::SourceAmounts::set_local_dong, "local_dong"},
      {&v1::SourceAmounts::has_other_dong, &v1::SourceAmounts::other_dong,
       &v1::SourceAmounts::set_other_dong, "other_dong"},
      {&v1::SourceAmounts::has_unspecified_dong, &v1::SourceAmounts::unspecified_dong,
       &v1::SourceAmounts::set_unspecified_dong, "unspecified_dong"},
  };
  for (const Source& source : kSources) {
    if (!(add.*source.has)()) continue;
    absl::StatusOr<Money> total = Money::CheckedAdd(Money::FromDong((sum->*source.get)()),
                                                    Money::FromDong((add.*source.get)()),
                                                    absl::StrCat(field, ".", source.name));
    if (!total.ok()) return total.status();
    (sum->*source.set)(total->dong());
  }
  return ComputeTotal(sum, field);
}

// ---- catalog --------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<const CatalogView>> CatalogView::Build(
    const v1::ImportCatalogRequest& request) {
  auto view = std::make_shared<CatalogView>();
  view->catalog_ = request.catalog();
  const int year = view->catalog_.year();
  if (year < 2000 || year > 2100) return InvalidField("catalog.year", "must be 2000..2100");
  view->catalog_.set_name(absl::StrCat("catalogs/", year));
  if (view->catalog_.tables().empty()) return RequiredField("catalog.tables");
  absl::flat_hash_map<std::string, int> table_order;
  for (int i = 0; i < view->catalog_.tables_size(); ++i) {
    const v1::CatalogTable& table = view->catalog_.tables(i);
    const std::string field = absl::StrCat("catalog.tables[", i, "]");
    if (!ValidTableId(table.id())) return InvalidField(field + ".id", "must be 1..32 of [a-z0-9-]");
    if (table.funding_kind() == v1::FUNDING_KIND_UNSPECIFIED) {
      return RequiredField(field + ".funding_kind");
    }
    if (!table_order.emplace(table.id(), i).second) {
      return InvalidField(field + ".id", absl::StrCat("duplicate table \"", table.id(), "\""));
    }
  }
  std::vector<v1::Line> lines(request.lines().begin(), request.lines().end());
  absl::flat_hash_map<std::string, size_t> index;
  absl::flat_hash_set<std::pair<std::string, int>> sort_keys;
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::Line& line = lines[i];
    const std::string field = absl::StrCat("lines[", i, "]");
    if (!ValidCode(line.code()))
      return InvalidField(field + ".code", "must be 1..32 of [0-9A-Za-z.-]");
    if (!index.emplace(line.code(), i).second) {
      return InvalidField(field + ".code", absl::StrCat("duplicate code \"", line.code(), "\""));
    }
    if (!table_order.contains(line.table())) {
      return InvalidField(field + ".table", absl::StrCat("no table \"", line.table(), "\""));
    }
    if (absl::StripAsciiWhitespace(line.label()).empty()) return RequiredField(field + ".label");
    if (!sort_keys.emplace(line.table(), line.sort_key()).second) {
      return InvalidField(field + ".sort_key", "duplicate within the table");
    }
    line.set_name(absl::StrCat("catalogs/", year, "/lines/", line.code()));
    line.set_has_children(false);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const v1::Line& line = lines[i];
    if (line.parent().empty()) continue;
    const std::string field = absl::StrCat("lines[", i, "].parent");
    auto it = index.find(line.parent());
    if (it == index.end())
      return InvalidField(field, absl::StrCat("no line \"", line.parent(), "\""));
    if (lines[it->second].table() != line.table()) return InvalidField(field, "in another table");
    lines[it->second].set_has_children(true);
  }
  // Every parent exists now. A cycle would make parent sums recurse forever;
  // a chain longer than the number of lines must loop.
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t steps = 0;
    for (const v1::Line* up = &lines[i]; !up->parent().empty();
         up = &lines[index.find(up->parent())->second]) {
      if (++steps > lines.size()) {
        return InvalidField(absl::StrCat("lines[", i, "].parent"), "the parents form a cycle");
      }
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [&](const v1::Line& a, const v1::Line& b) {
    int ta = table_order[a.table()], tb = table_order[b.table()];
    return ta != tb ? ta < tb : a.sort_key() < b.sort_key();
  });
  view->catalog_.set_line_count(static_cast<int32_t>(lines.size()));
  for (size_t i = 0; i < lines.size(); ++i) view->by_code_[lines[i].code()] = i;
  view->lines_ = std::move(lines);
  return std::shared_ptr<const CatalogView>(std::move(view));
}

const v1::Line* CatalogView::FindLine(absl::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &lines_[it->second];
}

const v1::CatalogTable* CatalogView::FindTable(absl::string_view id) const {
  for (const v1::CatalogTable& table : catalog_.tables()) {
    if (table.id() == id) return &table;
  }
  return nullptr;
}

std::vector<const v1::Line*> CatalogView::Children(absl::string_view code) const {
  std::vector<const v1::Line*> out;
  for (const v1::Line& line : lines_) {
    if (line.parent() == code) out.push_back(&line);
  }
  return out;
}

// ---- needs ----------------------------------------------------------------------

absl::Status CheckNeed(const CatalogView& catalog, const v1::Need& need, absl::string_view field) {
  const v1::Line* line = catalog.FindLine(need.line());
  if (line == nullptr) {
    return InvalidField(
        absl::StrCat(field, ".line"),
        absl::StrCat("no line \"", need.line(), "\" in ", catalog.catalog().name()));
  }
  if (need.has_beneficiaries() && need.beneficiaries() < 0) {
    return InvalidField(absl::StrCat(field, ".beneficiaries"), "must not be negative");
  }
  if (need.has_stated_total_dong() && need.stated_total_dong() < 0) {
    return InvalidField(absl::StrCat(field, ".stated_total_dong"), "must not be negative");
  }
  const v1::SourceAmounts& p = need.planned();
  const std::pair<bool, int64_t> sources[] = {{p.has_central_dong(), p.central_dong()},
                                              {p.has_local_dong(), p.local_dong()},
                                              {p.has_other_dong(), p.other_dong()},
                                              {p.has_unspecified_dong(), p.unspecified_dong()}};
  const char* names[] = {"central_dong", "local_dong", "other_dong", "unspecified_dong"};
  for (int i = 0; i < 4; ++i) {
    if (!sources[i].first) continue;
    const std::string f = absl::StrCat(field, ".planned.", names[i]);
    if (line->has_children()) {
      return InvalidField(
          f, absl::StrCat("line ", line->code(), " has children: its amounts are their sums"));
    }
    if (sources[i].second < 0) return InvalidField(f, "must not be negative");
    if (!line->source_split() && i < 3) {
      return InvalidField(
          f, absl::StrCat("line ", line->code(), " takes a single unspecified_dong amount"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Need>> ComputeNeeds(const CatalogView& catalog, const NeedMap& own) {
  // Children come after their parents in no guaranteed order, so sum
  // bottom-up by depth: deepest lines first.
  const std::vector<v1::Line>& lines = catalog.lines();
  auto depth = [&](const v1::Line& line) {
    int d = 0;
    for (const v1::Line* up = &line; !up->parent().empty(); up = catalog.FindLine(up->parent()))
      ++d;
    return d;
  };
  std::vector<size_t> order(lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<int> depths(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) depths[i] = depth(lines[i]);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return depths[a] > depths[b]; });

  absl::flat_hash_map<std::string, v1::Need> computed;
  for (size_t i : order) {
    const v1::Line& line = lines[i];
    auto mine = own.find(line.code());
    bool present = mine != own.end();
    v1::Need need;
    if (present) need = mine->second;
    need.set_line(line.code());
    const std::string field = absl::StrCat("needs[", line.code(), "].planned");
    if (line.has_children()) {
      need.clear_planned();
      for (const v1::Line* child : catalog.Children(line.code())) {
        auto c = computed.find(child->code());
        if (c == computed.end()) continue;
        present = true;
        absl::Status s = AddAmounts(c->second.planned(), need.mutable_planned(), field);
        if (!s.ok()) return s;
      }
    } else {
      absl::Status s = ComputeTotal(need.mutable_planned(), field);
      if (!s.ok()) return s;
    }
    if (present) computed.emplace(line.code(), std::move(need));
  }
  std::vector<v1::Need> out;
  for (const v1::Line& line : lines) {
    auto it = computed.find(line.code());
    if (it != computed.end()) out.push_back(std::move(it->second));
  }
  return out;
}

// ---- findings -------------------------------------------------------------------

namespace {

v1::Finding NewFinding(absl::string_view unit, int year, absl::string_view code,
                       v1::BudgetCheck check, v1::Severity severity) {
  v1::Finding f;
  f.set_name(absl::StrCat(unit, "/budget-findings/", year, "/", code, "/", CheckId(check)));
  f.set_check(check);
  f.set_severity(severity);
  f.set_line(std::string(code));
  return f;
}

// The addends of a computed total as printed: the children's totals for a
// parent, the sources present for a leaf.
std::vector<std::string> Parts(const CatalogView& catalog, const v1::Need& need,
                               const absl::flat_hash_map<std::string, const v1::Need*>& by_code) {
  std::vector<std::string> parts;
  const v1::Line* line = catalog.FindLine(need.line());
  if (line != nullptr && line->has_children()) {
    for (const v1::Line* child : catalog.Children(line->code())) {
      auto it = by_code.find(child->code());
      if (it != by_code.end() && it->second->planned().has_total_dong()) {
        parts.push_back(Millions(it->second->planned().total_dong()));
      }
    }
    return parts;
  }
  const v1::SourceAmounts& p = need.planned();
  if (p.has_central_dong()) parts.push_back(Millions(p.central_dong()));
  if (p.has_local_dong()) parts.push_back(Millions(p.local_dong()));
  if (p.has_other_dong()) parts.push_back(Millions(p.other_dong()));
  if (p.has_unspecified_dong()) parts.push_back(Millions(p.unspecified_dong()));
  return parts;
}

}  // namespace

std::vector<v1::Finding> EvaluateFindings(const CatalogView& catalog, absl::string_view unit,
                                          const std::vector<v1::Need>& needs,
                                          const RegistryStock* stock) {
  const int year = catalog.catalog().year();
  absl::flat_hash_map<std::string, const v1::Need*> by_code;
  for (const v1::Need& need : needs) by_code[need.line()] = &need;
  std::vector<v1::Finding> out;
  for (const v1::Need& need : needs) {
    const v1::Line* line = catalog.FindLine(need.line());
    if (line == nullptr) continue;
    if (need.has_stated_total_dong()) {
      v1::Finding f =
          NewFinding(unit, year, line->code(), v1::BUDGET_CHECK_STATED_TOTAL, v1::SEVERITY_ERROR);
      f.set_stated(need.stated_total_dong());
      if (!need.planned().has_total_dong()) {
        f.set_outcome(v1::FINDING_OUTCOME_NOT_CHECKABLE);
        f.set_message(absl::StrCat("Tổng ", Millions(need.stated_total_dong()),
                                   " (triệu đồng) không kiểm tra được: chưa có số liệu chi tiết"));
      } else {
        const int64_t computed = need.planned().total_dong();
        f.set_expected(computed);
        const bool same = computed == need.stated_total_dong();
        f.set_outcome(same ? v1::FINDING_OUTCOME_PASSED : v1::FINDING_OUTCOME_FAILED);
        std::vector<std::string> parts = Parts(catalog, need, by_code);
        std::string sum = parts.empty() ? Millions(computed) : absl::StrJoin(parts, " + ");
        if (!same && parts.size() > 1) absl::StrAppend(&sum, " = ", Millions(computed));
        f.set_message(absl::StrCat("Tổng ", Millions(need.stated_total_dong()),
                                   same ? " = " : " ≠ ", sum, " (triệu đồng)"));
      }
      f.set_blocks_submission(f.outcome() == v1::FINDING_OUTCOME_FAILED);
      out.push_back(std::move(f));
    }
    if (line->source_split() && !line->has_children() && need.planned().has_unspecified_dong()) {
      v1::Finding f = NewFinding(unit, year, line->code(), v1::BUDGET_CHECK_SOURCE_SPLIT_MISSING,
                                 v1::SEVERITY_WARNING);
      f.set_stated(need.planned().unspecified_dong());
      f.set_expected(0);
      const bool failed = need.planned().unspecified_dong() != 0;
      f.set_outcome(failed ? v1::FINDING_OUTCOME_FAILED : v1::FINDING_OUTCOME_PASSED);
      f.set_message(
          absl::StrCat(Millions(need.planned().unspecified_dong()),
                       " triệu đồng chưa phân theo nguồn (trung ương, địa phương, khác)"));
      f.set_blocks_submission(failed && f.explanation().text().empty());
      out.push_back(std::move(f));
    }
    const v1::Execution& e = need.execution();
    if (!line->has_children() && e.disbursed().has_total_dong()) {
      v1::Finding f = NewFinding(unit, year, line->code(), v1::BUDGET_CHECK_OVER_DISBURSED,
                                 v1::SEVERITY_WARNING);
      const int64_t allocated = e.allocated().total_dong();  // blank = nothing allocated
      f.set_stated(e.disbursed().total_dong());
      f.set_expected(allocated);
      const bool failed = e.disbursed().total_dong() > allocated;
      f.set_outcome(failed ? v1::FINDING_OUTCOME_FAILED : v1::FINDING_OUTCOME_PASSED);
      f.set_message(absl::StrCat("Đã giải ngân ", Millions(e.disbursed().total_dong()),
                                 failed ? " > " : " ≤ ", "đã phân bổ ", Millions(allocated),
                                 " (triệu đồng)"));
      f.set_blocks_submission(failed);
      out.push_back(std::move(f));
    }
    if (stock != nullptr && need.has_beneficiaries() &&
        line->beneficiary_kind() == v1::BENEFICIARY_KIND_ORGANIZATIONS) {
      v1::Finding f = NewFinding(unit, year, line->code(),
                                 v1::BUDGET_CHECK_BENEFICIARIES_VS_REGISTRY, v1::SEVERITY_WARNING);
      f.set_stated(need.beneficiaries());
      if (!stock->organizations) {
        f.set_outcome(v1::FINDING_OUTCOME_NOT_CHECKABLE);
        f.set_message(absl::StrCat(need.beneficiaries(),
                                   " tổ chức được hỗ trợ: không đối chiếu được với sổ đăng ký "
                                   "(sổ đăng ký không trả lời)"));
      } else {
        f.set_expected(*stock->organizations);
        const bool failed = need.beneficiaries() > *stock->organizations;
        f.set_outcome(failed ? v1::FINDING_OUTCOME_FAILED : v1::FINDING_OUTCOME_PASSED);
        f.set_message(absl::StrCat(need.beneficiaries(), " tổ chức được hỗ trợ ",
                                   failed ? "> " : "≤ ", *stock->organizations,
                                   " tổ chức trong sổ đăng ký ngày 31/12/", year - 1));
      }
      f.set_blocks_submission(f.outcome() == v1::FINDING_OUTCOME_FAILED);
      out.push_back(std::move(f));
    }
    if (!need.unclear().empty()) {
      v1::Finding f = NewFinding(unit, year, line->code(), v1::BUDGET_CHECK_PRINTED_UNCLEAR,
                                 v1::SEVERITY_WARNING);
      f.set_outcome(v1::FINDING_OUTCOME_FAILED);
      f.set_message(absl::StrJoin(need.unclear(), "; "));
      f.set_blocks_submission(true);
      out.push_back(std::move(f));
    }
  }
  return out;
}

const char* CheckId(v1::BudgetCheck check) {
  switch (check) {
    case v1::BUDGET_CHECK_STATED_TOTAL:
      return "stated-total";
    case v1::BUDGET_CHECK_SOURCE_SPLIT_MISSING:
      return "source-split";
    case v1::BUDGET_CHECK_OVER_DISBURSED:
      return "over-disbursed";
    case v1::BUDGET_CHECK_BENEFICIARIES_VS_REGISTRY:
      return "beneficiaries-registry";
    case v1::BUDGET_CHECK_PRINTED_UNCLEAR:
      return "printed-unclear";
    default:
      return "unspecified";
  }
}

v1::BudgetCheck CheckFromId(absl::string_view id) {
  for (int check = v1::BudgetCheck_MIN; check <= v1::BudgetCheck_MAX; ++check) {
    if (v1::BudgetCheck_IsValid(check) && check != v1::BUDGET_CHECK_UNSPECIFIED &&
        id == CheckId(static_cast<v1::BudgetCheck>(check))) {
      return static_cast<v1::BudgetCheck>(check);
    }
  }
  return v1::BUDGET_CHECK_UNSPECIFIED;
}

// ---- execution ------------------------------------------------------------------

absl::Status AddExecution(const CatalogView& catalog, const std::vector<LineRecord>& records,
                          std::vector<v1::Need>* needs) {
  absl::flat_hash_map<std::string, v1::Need*> by_code;
  for (v1::Need& need : *needs) {
    need.clear_execution();
    by_code[need.line()] = &need;
  }
  // Each record counts on its line and on every ancestor.
  for (const LineRecord& r : records) {
    const bool allocation = r.record->kind() == v1::FUNDING_RECORD_KIND_ALLOCATION;
    for (const v1::Line* line = catalog.FindLine(r.line); line != nullptr;
         line = line->parent().empty() ? nullptr : catalog.FindLine(line->parent())) {
      auto it = by_code.find(line->code());
      if (it == by_code.end()) continue;
      v1::Execution* e = it->second->mutable_execution();
      const std::string field = absl::StrCat("records[", r.record->name(), "].amounts");
      absl::Status s = AddAmounts(
          r.record->amounts(), allocation ? e->mutable_allocated() : e->mutable_disbursed(), field);
      if (!s.ok()) return s;
      if (!allocation && (!e->has_last_disbursement_date() ||
                          std::make_tuple(r.record->date().year(), r.record->date().month(),
                                          r.record->date().day()) >
                              std::make_tuple(e->last_disbursement_date().year(),
                                              e->last_disbursement_date().month(),
                                              e->last_disbursement_date().day()))) {
        *e->mutable_last_disbursement_date() = r.record->date();
      }
    }
  }
  for (v1::Need& need : *needs) {
    if (!need.has_execution()) continue;
    v1::Execution* e = need.mutable_execution();
    const int64_t disbursed = e->disbursed().total_dong();
    if (need.planned().has_total_dong()) {
      absl::optional<int32_t> rate = DisbursementRateBp(disbursed, need.planned().total_dong());
      if (rate) e->set_disbursement_rate_bp(*rate);
    }
    if (e->allocated().has_total_dong()) {
      absl::optional<int32_t> rate = DisbursementRateBp(disbursed, e->allocated().total_dong());
      if (rate) e->set_disbursed_of_allocated_bp(*rate);
    }
  }
  return absl::OkStatus();
}

// ---- rates ----------------------------------------------------------------------

absl::optional<int32_t> DisbursementRateBp(int64_t disbursed_dong, int64_t planned_dong) {
  if (planned_dong <= 0 || disbursed_dong < 0) return absl::nullopt;
  // 128-bit so that disbursed × 10 000 cannot overflow; half away from zero.
  __extension__ typedef __int128 Int128;
  Int128 scaled = static_cast<Int128>(disbursed_dong) * 10000 * 2 + planned_dong;
  Int128 bp = scaled / (static_cast<Int128>(planned_dong) * 2);
  if (bp > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  return static_cast<int32_t>(bp);
}

std::string FormatPercentBp(int32_t bp) {
  std::string sign = bp < 0 ? "-" : "";
  int64_t magnitude = bp < 0 ? -static_cast<int64_t>(bp) : bp;
  int64_t cents = magnitude % 100;
  return absl::StrCat(sign, GroupThousands(magnitude / 100), ",", cents < 10 ? "0" : "", cents);
}

}  // namespace htx::budget
