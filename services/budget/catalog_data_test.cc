#include "services/budget/catalog_data.h"

#include <cstdint>
#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace htx::budget {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMillion = 1000000;
// Tests run from the project root (ctest's working directory).
constexpr char kHanoiPhuLuc3[] = "../shared/domain/hanoi-2026/phu-luc-3-budget.csv";
constexpr char kHanoi[] = "provinces/01";

std::shared_ptr<const CatalogView> Catalog2026() {
  absl::StatusOr<v1::ImportCatalogRequest> request = LoadCatalogFile(kCatalog2026Path);
  EXPECT_TRUE(request.ok()) << request.status();
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(*request);
  EXPECT_TRUE(view.ok()) << view.status();
  return *view;
}

TEST(CatalogFileTest, Loads2026) {
  std::shared_ptr<const CatalogView> view = Catalog2026();
  EXPECT_EQ(view->catalog().year(), 2026);
  ASSERT_EQ(view->catalog().tables_size(), 2);
  EXPECT_EQ(view->catalog().tables(0).funding_kind(), v1::FUNDING_KIND_RECURRENT);
  EXPECT_EQ(view->catalog().tables(1).funding_kind(), v1::FUNDING_KIND_INVESTMENT);
  EXPECT_EQ(view->lines().size(), 22u);
  const v1::Line* consulting = view->FindLine("I.3.1");
  ASSERT_NE(consulting, nullptr);
  EXPECT_EQ(consulting->parent(), "I.3");
  EXPECT_EQ(consulting->printed_number(), "3.1");
  EXPECT_EQ(consulting->label(), "Hỗ trợ tư vấn thành lập mới tổ chức KTTT");
  EXPECT_EQ(consulting->beneficiary_kind(), v1::BENEFICIARY_KIND_OTHER);
  EXPECT_TRUE(view->FindLine("I.3")->has_children());
  EXPECT_TRUE(view->FindLine("I.1")->has_children());
  EXPECT_EQ(view->FindLine("I.1.a")->beneficiary_kind(), v1::BENEFICIARY_KIND_PEOPLE);
  EXPECT_EQ(view->FindLine("DT.I")->table(), "phu-luc-4");
}

TEST(CatalogFileTest, RefusesMalformedRecordsNamingTheLine) {
  absl::StatusOr<v1::ImportCatalogRequest> r =
      ParseCatalogText("catalog,2026,x\ntable,t,RECURRENT,h,t\nline,t,A,,1,a,maybe,,\n", "f.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("f.csv:3"));
  r = ParseCatalogText("catalog,2026,x\ntable,t,SOMETIMES,h,t\n", "f.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("f.csv:2"));
  EXPECT_EQ(LoadCatalogFile("no/such.csv").status().code(), absl::StatusCode::kNotFound);
}

struct Row {
  absl::optional<int64_t> beneficiaries;
  absl::optional<int64_t> central, local, other, unspecified, total;
};

absl::optional<int64_t> M(int64_t millions) { return millions * kMillion; }
const absl::optional<int64_t> kBlank;

void ExpectRow(const v1::Need& need, const Row& row) {
  SCOPED_TRACE(need.line());
  auto opt = [](bool has, int64_t v) { return has ? absl::optional<int64_t>(v) : kBlank; };
  EXPECT_EQ(opt(need.has_beneficiaries(), need.beneficiaries()), row.beneficiaries);
  const v1::SourceAmounts& p = need.planned();
  EXPECT_EQ(opt(p.has_central_dong(), p.central_dong()), row.central);
  EXPECT_EQ(opt(p.has_local_dong(), p.local_dong()), row.local);
  EXPECT_EQ(opt(p.has_other_dong(), p.other_dong()), row.other);
  EXPECT_EQ(opt(p.has_unspecified_dong(), p.unspecified_dong()), row.unspecified);
  EXPECT_EQ(opt(p.has_total_dong(), p.total_dong()), row.total);
}

TEST(HanoiPhuLuc3Test, ReproducesThePrintedTableCellByCell) {
  std::shared_ptr<const CatalogView> view = Catalog2026();
  absl::StatusOr<PhuLuc3Import> import = ParsePhuLuc3Csv(kHanoiPhuLuc3, kHanoi, *view);
  ASSERT_TRUE(import.ok()) << import.status();
  NeedMap own;
  for (const v1::Need& need : import->needs) own[need.line()] = need;
  absl::StatusOr<std::vector<v1::Need>> needs = ComputeNeeds(*view, own);
  ASSERT_TRUE(needs.ok()) << needs.status();

  absl::flat_hash_map<std::string, Row> expected = {
      {"I", {kBlank, M(50000), M(79578), M(25000), M(496), M(155074)}},
      {"I.1", {kBlank, kBlank, M(7884), kBlank, M(180), M(8064)}},
      {"I.1.a", {61, kBlank, M(1107), kBlank, kBlank, M(1107)}},
      {"I.1.b", {3490, kBlank, M(6777), kBlank, kBlank, M(6777)}},
      {"I.1.d", {20, kBlank, kBlank, kBlank, M(180), M(180)}},
      {"I.2", {700, kBlank, kBlank, kBlank, M(316), M(316)}},
      {"I.3", {240, kBlank, M(19498), kBlank, kBlank, M(19498)}},
      {"I.3.1", {kBlank, kBlank, M(3274), kBlank, kBlank, M(3274)}},
      {"I.3.2", {240, kBlank, M(16224), kBlank, kBlank, M(16224)}},
      {"I.4", {10, kBlank, M(700), kBlank, kBlank, M(700)}},
      {"I.5", {20, kBlank, M(338), kBlank, kBlank, M(338)}},
      {"I.6", {500, M(50000), M(51158), M(25000), kBlank, M(126158)}},
  };
  std::vector<std::string> order;
  for (const v1::Need& need : *needs) {
    order.push_back(need.line());
    auto it = expected.find(need.line());
    ASSERT_NE(it, expected.end()) << need.line();
    ExpectRow(need, it->second);
  }
  EXPECT_THAT(order, ElementsAre("I", "I.1", "I.1.a", "I.1.b", "I.1.d", "I.2", "I.3", "I.3.1",
                                 "I.3.2", "I.4", "I.5", "I.6"));
  const v1::Need& i4 = own["I.4"];
  EXPECT_EQ(i4.note(), "Đề xuất kinh phí khi Trung ương có kế hoạch triển khai cụ thể");
  EXPECT_EQ(i4.name(), "provinces/01/budget-needs/2026/I.4");
  EXPECT_EQ(own["I.3"].stated_total_dong(), 19498 * kMillion);
  EXPECT_FALSE(own["I.6"].has_stated_total_dong());  // no total is printed

  // 3.274 + 16.224 = 19.498, as printed.
  std::vector<v1::Finding> findings = EvaluateFindings(*view, kHanoi, *needs);
  absl::flat_hash_map<std::string, const v1::Finding*> by_name;
  for (const v1::Finding& f : findings) by_name[f.name()] = &f;
  const v1::Finding* consulting = by_name["provinces/01/budget-findings/2026/I.3/stated-total"];
  ASSERT_NE(consulting, nullptr);
  EXPECT_EQ(consulting->outcome(), v1::FINDING_OUTCOME_PASSED);
  EXPECT_EQ(consulting->stated(), 19498 * kMillion);
  EXPECT_EQ(consulting->expected(), (3274 + 16224) * kMillion);
  EXPECT_EQ(consulting->message(), "Tổng 19.498 = 3.274 + 16.224 (triệu đồng)");

  // Every stated total agrees; the two lines printed without a split are flagged.
  std::vector<std::string> failed;
  for (const v1::Finding& f : findings) {
    if (f.outcome() != v1::FINDING_OUTCOME_PASSED) failed.push_back(f.name());
  }
  EXPECT_THAT(failed, ElementsAre("provinces/01/budget-findings/2026/I.1.d/source-split",
                                  "provinces/01/budget-findings/2026/I.1.d/printed-unclear",
                                  "provinces/01/budget-findings/2026/I.2/source-split",
                                  "provinces/01/budget-findings/2026/I.2/printed-unclear",
                                  "provinces/01/budget-findings/2026/I.3/printed-unclear",
                                  "provinces/01/budget-findings/2026/I.4/printed-unclear",
                                  "provinces/01/budget-findings/2026/I.6/printed-unclear"));
  EXPECT_EQ(by_name["provinces/01/budget-findings/2026/I.2/source-split"]->message(),
            "316 triệu đồng chưa phân theo nguồn (trung ương, địa phương, khác)");

  // What the printed table leaves unclear, line by line.
  std::vector<std::string> unclear_lines;
  std::map<std::string, std::string> unclear;
  for (const v1::Need& need : import->needs) {
    if (need.unclear().empty()) continue;
    unclear_lines.push_back(need.line());
    unclear[need.line()] = absl::StrJoin(need.unclear(), "; ");
  }
  EXPECT_THAT(unclear_lines, ElementsAre("I.1.d", "I.2", "I.3", "I.4", "I.6"));
  EXPECT_THAT(unclear["I.4"], HasSubstr("a second count 12 is printed"));
  EXPECT_THAT(unclear["I.6"], HasSubstr("counts 500 and 523"));
}

TEST(HanoiPhuLuc3Test, DisagreementsBecomeFindingsWithBothNumbers) {
  std::shared_ptr<const CatalogView> view = Catalog2026();
  const std::string text =
      "code,parent,label_vi,beneficiaries,beneficiary_unit,total,central,local,other,note\n"
      "I,,x,,,,,,,\n"
      "I.3,I,x,240,,19500,,19500,,\n"
      "I.3.1,I.3,x,,,3274,,3274,,\n"
      "I.3.2,I.3,x,240,,16224,,16224,,\n";
  absl::StatusOr<PhuLuc3Import> import = ParsePhuLuc3Text(text, "t.csv", kHanoi, *view);
  ASSERT_TRUE(import.ok()) << import.status();
  std::vector<std::string> unclear;
  for (const v1::Need& need : import->needs) {
    for (const std::string& u : need.unclear()) unclear.push_back(u);
  }
  EXPECT_THAT(unclear, ElementsAre("Dòng I.3 in nguồn địa phương 19.500 ≠ tổng các dòng con "
                                   "19.498 (triệu đồng)"));
  NeedMap own;
  for (const v1::Need& need : import->needs) own[need.line()] = need;
  absl::StatusOr<std::vector<v1::Need>> needs = ComputeNeeds(*view, own);
  ASSERT_TRUE(needs.ok());
  std::vector<v1::Finding> findings = EvaluateFindings(*view, kHanoi, *needs);
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].line(), "I.3");
  EXPECT_EQ(findings[0].outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(findings[0].message(), "Tổng 19.500 ≠ 3.274 + 16.224 = 19.498 (triệu đồng)");
}

TEST(HanoiPhuLuc3Test, BadCellsAreRefusedNamingFileLineAndColumn) {
  std::shared_ptr<const CatalogView> view = Catalog2026();
  const std::string header =
      "code,parent,label_vi,beneficiaries,beneficiary_unit,total,central,local,other,note\n";
  absl::StatusOr<PhuLuc3Import> r =
      ParsePhuLuc3Text(header + "I.1.a,I.1,x,1,,,,-5,,\n", "t.csv", kHanoi, *view);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("t.csv:2 local"));
  r = ParsePhuLuc3Text(header + "I.1.a,I.1,x,1,,,1,0001,,,\n", "t.csv", kHanoi, *view);
  ASSERT_FALSE(r.ok());
  r = ParsePhuLuc3Text(header + "I.1.a,I.1,x,1,,,\"1,0001\",,,\n", "t.csv", kHanoi, *view);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("t.csv:2 central"));
  EXPECT_THAT(r.status().message(), HasSubstr("more than 3 decimals"));
  r = ParsePhuLuc3Text(header + "I.9.z,I.9,x,,,,,,,\n", "t.csv", kHanoi, *view);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("t.csv:2 code"));
}

}  // namespace
}  // namespace htx::budget
