#include "services/indicator/catalog_data.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/indicator/indicator_logic.h"

namespace htx::indicator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

// Tests run from the project root (see cmake/HtxTarget.cmake).
constexpr char kHanoi[] = "../shared/domain/hanoi-2026/";
constexpr char kUnit[] = "provinces/01";

MATCHER_P(InvalidArgumentFor, field, "is INVALID_ARGUMENT naming " + std::string(field)) {
  const absl::Status status = arg;
  *result_listener << "status is " << status.ToString() << " naming \""
                   << ErrorMetadata(status, "field") << "\"";
  return status.code() == absl::StatusCode::kInvalidArgument &&
         ErrorMetadata(status, "field") == field;
}

// The CSV as text, split independently of the code under test: comment
// lines dropped, quoted fields unquoted.
std::vector<std::vector<std::string>> ReadRows(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (char c : line) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.emplace_back();
      } else {
        fields.back().push_back(c);
      }
    }
    rows.push_back(fields);
  }
  return rows;
}

std::string Show(const v1::CellValue& v) {
  switch (v.state()) {
    case v1::VALUE_STATE_NUMBER:
      return v.number();
    case v1::VALUE_STATE_DASH:
      return "-";
    case v1::VALUE_STATE_BLANK:
      return "";
    default:
      return "(unset)";
  }
}

class HanoiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<v1::ImportCatalogRequest> catalog = LoadCatalogFile(kCatalog2026Path);
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = *catalog;
    absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(catalog_);
    ASSERT_TRUE(view.ok()) << view.status();
    view_ = *view;
    for (const char* file : {"phu-luc-1-indicators.csv", "phu-luc-2-by-sector.csv"}) {
      absl::StatusOr<std::vector<v1::ValueWrite>> writes =
          ParseAppendixCsv(std::string(kHanoi) + file, kUnit, 2026, catalog_);
      ASSERT_TRUE(writes.ok()) << writes.status();
      for (const v1::ValueWrite& w : *writes) {
        ASSERT_TRUE(CheckWrite(*view_, w, "write").ok()) << w.name();
        absl::StatusOr<ValueName> name = ParseValueName(w.name(), "name");
        ASSERT_TRUE(name.ok());
        ASSERT_EQ(name->unit, kUnit);
        ASSERT_TRUE(values_.emplace(CellKey(name->column, name->code), w.value()).second)
            << "written twice: " << w.name();
      }
    }
  }

  // Every printed number, dash and blank of the CSV, cell by cell, in the
  // table read; rows in the same order; labels and units as printed.
  void ExpectTableReproducesCsv(const std::string& table_id, const std::string& file,
                                const std::string& code_prefix) {
    absl::StatusOr<v1::IndicatorTable> table = BuildTable(*view_, table_id, values_, nullptr);
    ASSERT_TRUE(table.ok()) << table.status();
    std::vector<std::vector<std::string>> csv = ReadRows(std::string(kHanoi) + file);
    const std::vector<std::string>& header = csv[0];
    ASSERT_EQ(header[0], "code");
    ASSERT_EQ(table->rows_size(), static_cast<int>(csv.size()) - 1);
    std::vector<std::string> columns(header.begin() + 4, header.end());
    ASSERT_EQ(table->table().columns_size(), static_cast<int>(columns.size()));
    for (size_t c = 0; c < columns.size(); ++c) {
      EXPECT_EQ(table->table().columns(c).id(), columns[c]);
    }
    int cells = 0;
    for (size_t i = 1; i < csv.size(); ++i) {
      const std::vector<std::string>& printed = csv[i];
      const v1::TableRow& row = table->rows(static_cast<int>(i) - 1);
      const bool top = printed[1].empty();
      const std::string code =
          absl::StrCat(absl::ascii_isdigit(printed[0][0]) ? code_prefix : "", printed[0]);
      SCOPED_TRACE(code);
      EXPECT_EQ(row.indicator(), code);
      EXPECT_EQ(row.label(), printed[2]);
      EXPECT_EQ(row.unit_of_measure(), printed[3]);
      EXPECT_EQ(row.level() == 0, top);
      if (row.heading()) {
        for (size_t c = 4; c < printed.size(); ++c) EXPECT_EQ(printed[c], "");
        continue;
      }
      ASSERT_EQ(row.cells_size(), static_cast<int>(columns.size()));
      for (size_t c = 0; c < columns.size(); ++c) {
        EXPECT_EQ(row.cells(c).column(), columns[c]);
        EXPECT_EQ(Show(row.cells(c).value()), printed[4 + c]) << columns[c];
        ++cells;
      }
    }
    EXPECT_GT(cells, 100);
  }

  const v1::TableRow* Row(const v1::IndicatorTable& t, const std::string& code) {
    for (const v1::TableRow& r : t.rows()) {
      if (r.indicator() == code) return &r;
    }
    return nullptr;
  }

  std::string Ratio(const v1::TableRow& row, v1::RatioKind kind, const std::string& column) {
    for (const v1::Ratio& r : row.ratios()) {
      if (r.kind() == kind && r.column() == column) return Show(r.value());
    }
    return "(none)";
  }

  v1::ImportCatalogRequest catalog_;
  std::shared_ptr<const CatalogView> view_;
  ValueMap values_;
};

TEST_F(HanoiTest, PhuLuc1ReproducesEveryPrintedCell) {
  ExpectTableReproducesCsv("phu-luc-1", "phu-luc-1-indicators.csv", "");
}

TEST_F(HanoiTest, PhuLuc2ReproducesEveryPrintedCell) {
  ExpectTableReproducesCsv("phu-luc-2", "phu-luc-2-by-sector.csv", "S");
}

TEST_F(HanoiTest, KeepsBlankDashAndZeroApart) {
  EXPECT_EQ(values_.at(CellKey("plan_2025", "II.1.c")).state(), v1::VALUE_STATE_DASH);
  EXPECT_EQ(values_.at(CellKey("estimate_2025", "II.1.c")).state(), v1::VALUE_STATE_BLANK);
  EXPECT_EQ(values_.at(CellKey("actual_2024", "II.1.c")).number(), "1");
  EXPECT_EQ(values_.at(CellKey("actual_2023", "S2.4")).state(), v1::VALUE_STATE_BLANK);
  EXPECT_FALSE(values_.contains(CellKey("actual_2024", "I")));  // headings are not written
  // 43 rows less 3 headings × 4 columns + 24 rows × 5 columns.
  EXPECT_THAT(values_, SizeIs(40 * 4 + 24 * 5));
}

TEST_F(HanoiTest, ComputesPercentOfPlanAndGrowth) {
  absl::StatusOr<v1::IndicatorTable> t1 = BuildTable(*view_, "phu-luc-1", values_, nullptr);
  ASSERT_TRUE(t1.ok());
  const v1::TableRow& htx = *Row(*t1, "I.1");
  // Ước thực hiện 2025 bằng 2912 / 2698 = 107.93% kế hoạch.
  EXPECT_EQ(Ratio(htx, v1::RATIO_KIND_PERCENT_OF_PLAN, "estimate_2025"), "107.93");
  EXPECT_EQ(Ratio(htx, v1::RATIO_KIND_GROWTH, "estimate_2025"), "8.86");  // 237 / 2675
  EXPECT_EQ(Ratio(htx, v1::RATIO_KIND_GROWTH, "plan_2025"), "0.86");      // 23 / 2675
  EXPECT_EQ(Ratio(htx, v1::RATIO_KIND_GROWTH, "plan_2026"), "1.72");      // 50 / 2912
  EXPECT_EQ(Ratio(htx, v1::RATIO_KIND_GROWTH, "actual_2024"), "(none)");  // no 2023 in PL I
  EXPECT_EQ(Ratio(htx, v1::RATIO_KIND_PERCENT_OF_PLAN, "actual_2024"), "(none)");
  EXPECT_EQ(Ratio(*Row(*t1, "I.1.b"), v1::RATIO_KIND_PERCENT_OF_PLAN, "estimate_2025"), "250");
  EXPECT_EQ(Ratio(*Row(*t1, "I.4.a"), v1::RATIO_KIND_PERCENT_OF_PLAN, "estimate_2025"),
            "95.92");  // 6940 / 7235
  EXPECT_EQ(Ratio(*Row(*t1, "I.5"), v1::RATIO_KIND_PERCENT_OF_PLAN, "estimate_2025"), "100");
  EXPECT_EQ(Ratio(*Row(*t1, "I.7"), v1::RATIO_KIND_GROWTH, "plan_2026"), "7.69");  // 5 / 65
  // Estimate blank, plan a dash: nothing to compute.
  EXPECT_EQ(Ratio(*Row(*t1, "II.1.c"), v1::RATIO_KIND_PERCENT_OF_PLAN, "estimate_2025"), "");
  EXPECT_EQ(Ratio(*Row(*t1, "I.1.e"), v1::RATIO_KIND_GROWTH, "plan_2026"), "");

  absl::StatusOr<v1::IndicatorTable> t2 = BuildTable(*view_, "phu-luc-2", values_, nullptr);
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(Ratio(*Row(*t2, "S1"), v1::RATIO_KIND_GROWTH, "actual_2024"), "5.4");  // 137 / 2538
  EXPECT_EQ(Ratio(*Row(*t2, "S1.5"), v1::RATIO_KIND_PERCENT_OF_PLAN, "estimate_2025"),
            "114.44");  // 412 / 360
}

TEST_F(HanoiTest, ShowsRegistryFiguresBesideDerivedRowsAtTheCutOff) {
  RegistryFigures registry;
  auto number = [](const char* n) {
    v1::CellValue v;
    v.set_state(v1::VALUE_STATE_NUMBER);
    v.set_number(n);
    return v;
  };
  registry[CellKey("actual_2024", "I.1")] = number("2675");
  registry[CellKey("actual_2024", "I.1.a")] = number("2301");
  registry[CellKey("actual_2023", "S1")] = number("2538");
  absl::StatusOr<v1::IndicatorTable> t1 = BuildTable(*view_, "phu-luc-1", values_, &registry);
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(Show(Row(*t1, "I.1")->cells(0).registry_value()), "2675");
  EXPECT_FALSE(Row(*t1, "I.1")->cells(1).has_registry_value());  // plans have no cut-off
  EXPECT_EQ(Show(Row(*t1, "I.1.a")->cells(0).registry_value()), "2301");
  EXPECT_FALSE(Row(*t1, "I.4")->cells(0).has_registry_value());  // not derived

  std::vector<v1::Finding> findings = EvaluateRules(*view_, kUnit, values_, &registry);
  auto outcome = [&](const std::string& rule, const std::string& column) {
    for (const v1::Finding& f : findings) {
      if (f.rule() == "catalogs/2026/rules/" + rule && f.column() == column) return f.outcome();
    }
    return v1::FINDING_OUTCOME_UNSPECIFIED;
  };
  EXPECT_EQ(outcome("registry-i-1", "actual_2024"), v1::FINDING_OUTCOME_PASSED);
  EXPECT_EQ(outcome("registry-i-1-a", "actual_2024"), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(outcome("registry-s1", "actual_2023"), v1::FINDING_OUTCOME_PASSED);
  EXPECT_EQ(outcome("registry-s1", "actual_2024"), v1::FINDING_OUTCOME_NOT_CHECKABLE);
  EXPECT_EQ(outcome("registry-i-1", "plan_2025"), v1::FINDING_OUTCOME_UNSPECIFIED);  // none
}

using Key = std::tuple<std::string, std::string>;  // rule, column

std::vector<Key> Cross(const std::vector<std::string>& rules,
                       const std::vector<std::string>& columns) {
  std::vector<Key> out;
  for (const std::string& r : rules) {
    for (const std::string& c : columns) out.emplace_back(r, c);
  }
  return out;
}

TEST_F(HanoiTest, FindsWhatACarefulReviewerFinds) {
  std::vector<v1::Finding> findings = EvaluateRules(*view_, kUnit, values_, nullptr);
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> failed;
  std::vector<Key> not_checkable, registry_not_checkable, passed;
  for (const v1::Finding& f : findings) {
    const std::string rule = f.rule().substr(f.rule().rfind('/') + 1);
    EXPECT_EQ(f.name(), absl::StrCat(kUnit, "/indicator-findings/2026/", rule, "/", f.column()));
    switch (f.outcome()) {
      case v1::FINDING_OUTCOME_FAILED:
        failed.emplace_back(rule, f.column(), f.left(), f.right());
        EXPECT_EQ(f.severity(), v1::SEVERITY_WARNING) << rule;
        EXPECT_TRUE(f.blocks_submission());
        break;
      case v1::FINDING_OUTCOME_NOT_CHECKABLE:
        EXPECT_EQ(f.right(), "") << rule;
        EXPECT_THAT(f.message(), HasSubstr("không kiểm tra được")) << rule;
        (absl::StartsWith(rule, "registry-") ? registry_not_checkable : not_checkable)
            .emplace_back(rule, f.column());
        break;
      case v1::FINDING_OUTCOME_PASSED:
        passed.emplace_back(rule, f.column());
        break;
      default:
        ADD_FAILURE() << f.name();
    }
  }

  // Exactly three breaks, all of stock and flow:
  //  - HTX, plan 2025: 2.698 printed, 2.675 + 100 - 30 = 2.745;
  //  - LH HTX, plan 2025: 26 printed, 26 + 2 - "-" = 28;
  //  - LH HTX, actual 2024 (2023's stock from Phụ lục II): 26 printed, 23 + 3 - 1 = 25.
  EXPECT_THAT(failed,
              ElementsAre(std::make_tuple("stock-flow-htx", "plan_2025", "2698", "2745"),
                          std::make_tuple("stock-flow-lhhtx", "plan_2025", "26", "28"),
                          std::make_tuple("stock-flow-lhhtx-actual", "actual_2024", "26", "25")));
  for (const v1::Finding& f : findings) {
    if (f.name() == "provinces/01/indicator-findings/2026/stock-flow-htx/plan_2025") {
      EXPECT_EQ(f.message(), "Kế hoạch 2025: 2.698 ≠ 2.675 + 100 - 30 = 2.745");
      ASSERT_THAT(f.operands(), SizeIs(4));
      EXPECT_EQ(f.operands(1).indicator(), "I.1");
      EXPECT_EQ(f.operands(1).column(), "actual_2024");
    }
  }

  // Unchecked because an input is blank (never guessed as 0).
  const std::vector<std::string> pl1 = {"actual_2024", "plan_2025", "estimate_2025", "plan_2026"};
  const std::vector<std::string> pl2 = {"actual_2023", "actual_2024", "plan_2025", "estimate_2025",
                                        "plan_2026"};
  std::vector<Key> expected_nc =
      Cross({"of-which-htx-high-tech", "of-which-htx-value-chain", "of-which-htx-owns-enterprise",
             "of-which-htx-enterprise-members", "of-which-htx-foreign-members",
             "of-which-workers-members", "of-which-revenue-members",
             "of-which-lhhtx-owns-enterprise", "of-which-tht-registered", "same-tht-total"},
            pl1);
  // Members: no one reported who left (I.2.b).
  for (const Key& k : Cross({"stock-flow-members"}, {"plan_2025", "estimate_2025", "plan_2026"})) {
    expected_nc.push_back(k);
  }
  // LH HTX dissolved in the 2025 estimate is blank (the plan prints "-").
  expected_nc.emplace_back("stock-flow-lhhtx", "estimate_2025");
  // LH HTX tín dụng and khác are blank; THT nothing at all.
  for (const Key& k : Cross({"sum-lhhtx-by-sector", "sum-tht-by-sector"}, pl2)) {
    expected_nc.push_back(k);
  }
  EXPECT_THAT(not_checkable, UnorderedElementsAreArray(expected_nc));
  // Registry comparisons without the registry: 21 derived rows of Phụ lục I
  // at 31/12/2024, 16 of Phụ lục II at 31/12/2023 and 31/12/2024.
  EXPECT_THAT(registry_not_checkable, SizeIs(21 + 16 * 2));

  // And what holds.
  std::vector<Key> expected_passed = Cross(
      {"active-le-total-htx", "of-which-htx-rated-good-fair", "of-which-managers-intermediate",
       "of-which-managers-higher", "sum-managers-by-training", "active-le-total-lhhtx",
       "same-htx-total", "same-lhhtx-total"},
      pl1);
  for (const Key& k : Cross({"stock-flow-htx"}, {"estimate_2025", "plan_2026"})) {
    expected_passed.push_back(k);  // 2.675 + 250 - 13 = 2.912; 2.912 + 150 - 100 = 2.962
  }
  expected_passed.emplace_back("stock-flow-lhhtx", "plan_2026");         // 27 + 2 - 1 = 28
  expected_passed.emplace_back("stock-flow-htx-actual", "actual_2024");  // 2.538 + 149 - 12
  for (const Key& k : Cross({"sum-htx-by-sector"}, pl2)) expected_passed.push_back(k);
  EXPECT_THAT(passed, UnorderedElementsAreArray(expected_passed));

  v1::FindingSummary summary = Summarize(findings);
  EXPECT_EQ(summary.errors(), 0);
  EXPECT_EQ(summary.warnings(), 3);
  EXPECT_EQ(summary.unexplained_warnings(), 3);
  EXPECT_EQ(summary.blocking(), 3);
  EXPECT_EQ(summary.not_checkable(), 54 + 53);
}

TEST_F(HanoiTest, RollsUpTwoCopiesOfHanoi) {
  // Hà Nội twice: sums double, averages and shares stay what they were.
  ValueMap rolled = Rollup(*view_, {&values_, &values_}, nullptr);
  EXPECT_EQ(Show(rolled.at(CellKey("plan_2026", "I.1"))), "5924");
  EXPECT_EQ(Show(rolled.at(CellKey("plan_2026", "I.5"))), "3200");
  EXPECT_EQ(Show(rolled.at(CellKey("plan_2026", "I.7"))), "70");
  EXPECT_EQ(Show(rolled.at(CellKey("plan_2025", "II.1.c"))), "-");
  EXPECT_FALSE(rolled.contains(CellKey("estimate_2025", "II.1.c")));
  EXPECT_FALSE(rolled.contains(CellKey("plan_2026", "II.4")));
}

// ---- Files and their errors ---------------------------------------------------------

constexpr char kMiniCatalog[] = R"(# a comment
catalog,2026,"Thử, nghiệm",rules.csv
table,t,PHỤ LỤC,Tiêu đề
column,t,actual_2024,Thực hiện năm 2024,,2024-12-31
column,t,plan_2025,Kế hoạch,"Năm 2025",
note,t,(*) ghi chú
indicator,t,I,,,I,Hợp tác xã,,HEADING,,,
indicator,t,I.1,I,SECTION,1,Tổng số,HTX,SUM,,,HTX:TOTAL
indicator,t,I.1.a,I.1,OF_WHICH,,Đang hoạt động,HTX,SUM,,,HTX/TRADE:ACTIVE
indicator,t,I.2,I,SECTION,2,"Lãi, bình quân",Tr đồng/năm,AVG:I.1.a,3,negative,
)";
constexpr char kMiniRules[] =
    "id,kind,severity,subject,parts,column_kinds,tolerance,description\n"
    "active,ACTIVE_LE_TOTAL,ERROR,I.1,I.1.a,ACTUAL PLAN,0.5,\"Đang hoạt động ≤ tổng, rõ\"\n";

TEST(CatalogFileTest, ParsesEveryRecordType) {
  absl::StatusOr<v1::ImportCatalogRequest> req =
      ParseCatalogText(kMiniCatalog, "c.csv", kMiniRules, "rules.csv");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->catalog().year(), 2026);
  EXPECT_EQ(req->catalog().display_name(), "Thử, nghiệm");
  const v1::CatalogTable& t = req->catalog().tables(0);
  EXPECT_EQ(t.heading(), "PHỤ LỤC");
  EXPECT_EQ(t.columns(0).kind(), v1::COLUMN_KIND_ACTUAL);
  EXPECT_EQ(t.columns(0).registry_as_of().day(), 31);
  EXPECT_EQ(t.columns(1).kind(), v1::COLUMN_KIND_PLAN);
  EXPECT_EQ(t.columns(1).year(), 2025);
  EXPECT_EQ(t.columns(1).group_label(), "Năm 2025");
  EXPECT_THAT(t.notes(), ElementsAre("(*) ghi chú"));
  ASSERT_THAT(req->indicators(), SizeIs(4));
  EXPECT_TRUE(req->indicators(0).heading());
  EXPECT_EQ(req->indicators(2).derivation().sector(), registry::v1::SECTOR_TRADE);
  EXPECT_EQ(req->indicators(2).derivation().metrics(0), v1::REGISTRY_METRIC_ACTIVE);
  EXPECT_EQ(req->indicators(2).sort_key(), 30);
  EXPECT_EQ(req->indicators(3).label(), "Lãi, bình quân");
  EXPECT_EQ(req->indicators(3).weight_indicator(), "I.1.a");
  EXPECT_EQ(req->indicators(3).max_decimals(), 3);
  EXPECT_TRUE(req->indicators(3).allow_negative());
  ASSERT_THAT(req->rules(), SizeIs(1));
  const v1::ValidationRule& r = req->rules(0);
  EXPECT_EQ(r.name(), "catalogs/2026/rules/active");
  EXPECT_EQ(r.kind(), v1::RULE_KIND_ACTIVE_LE_TOTAL);
  EXPECT_THAT(r.column_kinds(), ElementsAre(v1::COLUMN_KIND_ACTUAL, v1::COLUMN_KIND_PLAN));
  EXPECT_EQ(r.tolerance(), "0.5");
  EXPECT_EQ(r.description(), "Đang hoạt động ≤ tổng, rõ");
}

TEST(CatalogFileTest, NamesTheLineOfABadRecord) {
  auto error = [](const std::string& catalog, const std::string& rules = kMiniRules) {
    return ParseCatalogText(catalog, "c.csv", rules, "rules.csv").status();
  };
  const std::string base = kMiniCatalog;
  EXPECT_THAT(error(base + "indicator,t,I.3,I,SECTION,3,X,HTX,AVERAGE,,,\n"),
              InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "indicator,t,I.3,I,SECTION,3,X,HTX,SUM,,,HTX:COUNT\n"),
              InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "indicator,t,I.3,I,PART,3,X,HTX,SUM,,,\n"),
              InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "indicator,u,I.3,I,SECTION,3,X,HTX,SUM,,,\n"),
              InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "column,t,plan-2026,K,,\n"), InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "column,t,plan_2026,K,,31/12/2026\n"), InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "row,t\n"), InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base + "note,t,\"unterminated\n"), InvalidArgumentFor("c.csv:11"));
  EXPECT_THAT(error(base, "id,kind\n"), InvalidArgumentFor("rules.csv"));
  EXPECT_THAT(error(base, std::string(kMiniRules) + "x,SOMETIMES,ERROR,I.1,,,,\n"),
              InvalidArgumentFor("rules.csv:3"));
  // A well-formed file with a broken catalog: the Build error.
  EXPECT_THAT(error(base + "indicator,t,I.3,I,SECTION,3,X,HTX,AVG:I.9,,,\n"),
              InvalidArgumentFor("indicators[4].weight_indicator"));
  EXPECT_EQ(LoadCatalogFile("/nonexistent/catalog.csv").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AppendixCsvTest, ReadsCellsIntoNamedWrites) {
  absl::StatusOr<v1::ImportCatalogRequest> req =
      ParseCatalogText(kMiniCatalog, "c.csv", kMiniRules, "rules.csv");
  ASSERT_TRUE(req.ok());
  absl::StatusOr<std::vector<v1::ValueWrite>> writes = ParseAppendixCsvText(
      "# x\ncode,parent,label_vi,unit,actual_2024,plan_2025\n"
      "I,,Hợp tác xã,,,\n"
      "I.1,I,Tổng số,HTX,2675,-\n"
      "I.2,I,\"Lãi, bình quân\",Tr đồng/năm,-12.50,\n",
      "a.csv", "provinces/01/communes/00004", 2026, *req);
  ASSERT_TRUE(writes.ok()) << writes.status();
  ASSERT_THAT(*writes, SizeIs(4));
  EXPECT_EQ((*writes)[0].name(),
            "provinces/01/communes/00004/indicator-values/2026/actual_2024/I.1");
  EXPECT_EQ(Show((*writes)[0].value()), "2675");
  EXPECT_EQ((*writes)[1].value().state(), v1::VALUE_STATE_DASH);
  EXPECT_EQ((*writes)[2].name(),
            "provinces/01/communes/00004/indicator-values/2026/actual_2024/I.2");
  EXPECT_EQ(Show((*writes)[2].value()), "-12.5");
  EXPECT_EQ((*writes)[3].value().state(), v1::VALUE_STATE_BLANK);
}

TEST(AppendixCsvTest, RefusesWhatDoesNotFitNamingTheCell) {
  absl::StatusOr<v1::ImportCatalogRequest> req =
      ParseCatalogText(kMiniCatalog, "c.csv", kMiniRules, "rules.csv");
  ASSERT_TRUE(req.ok());
  auto error = [&](const std::string& body, int year = 2026) {
    return ParseAppendixCsvText("code,parent,label_vi,unit,actual_2024,plan_2025\n" + body, "a.csv",
                                "provinces/01", year, *req)
        .status();
  };
  EXPECT_THAT(error("I.1,I,T,HTX,\"2,675\",\n"), InvalidArgumentFor("a.csv:2:actual_2024"));
  EXPECT_THAT(error("I.1,I,T,HTX,2675.5,\n"), InvalidArgumentFor("a.csv:2:actual_2024"));
  EXPECT_THAT(error("I.1,I,T,HTX,-1,\n"), InvalidArgumentFor("a.csv:2:actual_2024"));
  EXPECT_THAT(error("I,,H,,1,\n"), InvalidArgumentFor("a.csv:2:actual_2024"));
  EXPECT_THAT(error("I.1,,T,HTX,1,\n"), InvalidArgumentFor("a.csv:2"));  // wrong parent
  EXPECT_THAT(error("I.1,I,T,HTX,1\n"), InvalidArgumentFor("a.csv:2"));  // short row
  EXPECT_THAT(error("I.1,I,T,HTX,1,\nI.1,I,T,HTX,1,\n"), InvalidArgumentFor("a.csv:3"));
  EXPECT_THAT(error("I.9,I,T,HTX,1,\n"), InvalidArgumentFor("a.csv"));  // no such row
  EXPECT_THAT(error("I.1,I,T,HTX,1,\n", 2025), InvalidArgumentFor("year"));
  EXPECT_THAT(ParseAppendixCsvText("code,parent,label_vi,unit,actual_2024,plan_2026\n", "a.csv",
                                   "provinces/01", 2026, *req)
                  .status(),
              InvalidArgumentFor("a.csv"));
  EXPECT_THAT(ParseAppendixCsvText("code,parent,label_vi,unit,thuc_hien\n", "a.csv", "provinces/01",
                                   2026, *req)
                  .status(),
              InvalidArgumentFor("a.csv:1"));
  EXPECT_THAT(ParseAppendixCsvText("code,parent,label_vi,unit,actual_2024\nI.1,I,T,HTX,1\n",
                                   "a.csv", "provinces/1", 2026, *req)
                  .status(),
              InvalidArgumentFor("a.csv:2:actual_2024.name"));
}

}  // namespace
}  // namespace htx::indicator
