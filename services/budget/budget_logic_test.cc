#include "services/budget/budget_logic.h"

#include <cstdint>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace htx::budget {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMillion = 1000000;

int64_t Parse(const char* text) {
  absl::StatusOr<Money> m = Money::ParseMillions(text, "need.planned");
  EXPECT_TRUE(m.ok()) << text << ": " << m.status();
  return m.ok() ? m->dong() : -1;
}

void ExpectRefused(const char* text, const char* why) {
  absl::StatusOr<Money> m = Money::ParseMillions(text, "rows[3].local");
  ASSERT_FALSE(m.ok()) << text;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_THAT(m.status().message(), HasSubstr("rows[3].local")) << text;
  EXPECT_THAT(m.status().message(), HasSubstr(why)) << text;
}

TEST(MoneyTest, ParsesMillionsInVietnameseNotation) {
  EXPECT_EQ(Parse("138,971"), 138971000);  // "đã giải ngân 138,971 triệu đồng"
  EXPECT_EQ(Parse("19.498"), 19498 * kMillion);
  EXPECT_EQ(Parse("19498"), 19498 * kMillion);  // transcribed CSVs
  EXPECT_EQ(Parse("1.234.567,5"), 1234567 * kMillion + 500000);
  EXPECT_EQ(Parse("0,001"), 1000);
  EXPECT_EQ(Parse("0"), 0);
  EXPECT_EQ(Parse("9.223.372.036.854,775"), 9223372036854775000);
}

TEST(MoneyTest, RefusesNamingTheField) {
  ExpectRefused("-5", "negative");
  ExpectRefused("0,0001", "more than 3 decimals");
  ExpectRefused("9223372036855", "exceeds");
  ExpectRefused("99999999999999999999", "exceeds");
  ExpectRefused("19.5", "1.234,567");  // a foreign decimal point, not a group
  ExpectRefused("1,2,3", "more than one decimal comma");
  ExpectRefused("", "empty");
  ExpectRefused("12a", "1.234,567");
  ExpectRefused("1,", "malformed decimals");
}

TEST(MoneyTest, FormatsExactly) {
  EXPECT_EQ(Money::FromDong(138971000).FormatMillions(), "138,971");
  EXPECT_EQ(Money::FromDong(19498 * kMillion).FormatMillions(), "19.498");
  EXPECT_EQ(Money::FromDong(0).FormatMillions(), "0");
  EXPECT_EQ(Money::FromDong(500000).FormatMillions(), "0,5");
  EXPECT_EQ(Money::FromDong(1500).FormatMillions(), "0,0015");  // never rounded away
  EXPECT_EQ(Money::FromDong(std::numeric_limits<int64_t>::max()).FormatMillions(),
            "9.223.372.036.854,775807");
  for (const char* text : {"138,971", "19.498", "1.234.567,5", "0,001", "999"}) {
    EXPECT_EQ(Money::FromDong(Parse(text)).FormatMillions(), text);
  }
}

TEST(MoneyTest, CheckedAddition) {
  absl::StatusOr<Money> sum =
      Money::CheckedAdd(Money::FromDong(3274 * kMillion), Money::FromDong(16224 * kMillion), "x");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->FormatMillions(), "19.498");
  absl::StatusOr<Money> over = Money::CheckedAdd(
      Money::FromDong(std::numeric_limits<int64_t>::max()), Money::FromDong(1), "planned.total");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.status().message(), HasSubstr("planned.total"));
}

TEST(TotalsTest, TotalIsTheSumOfSourcesPresent) {
  v1::SourceAmounts a;
  ASSERT_TRUE(ComputeTotal(&a, "a").ok());
  EXPECT_FALSE(a.has_total_dong());  // all blank stays blank, not 0
  a.set_central_dong(50000 * kMillion);
  a.set_local_dong(51158 * kMillion);
  a.set_other_dong(25000 * kMillion);
  a.set_total_dong(1);  // a typed total is never kept
  ASSERT_TRUE(ComputeTotal(&a, "a").ok());
  EXPECT_EQ(a.total_dong(), 126158 * kMillion);

  v1::SourceAmounts sum;
  ASSERT_TRUE(AddAmounts(a, &sum, "s").ok());
  v1::SourceAmounts b;
  b.set_unspecified_dong(180 * kMillion);
  ASSERT_TRUE(AddAmounts(b, &sum, "s").ok());
  EXPECT_EQ(sum.central_dong(), 50000 * kMillion);
  EXPECT_EQ(sum.unspecified_dong(), 180 * kMillion);
  EXPECT_EQ(sum.total_dong(), 126338 * kMillion);

  v1::SourceAmounts big;
  big.set_central_dong(std::numeric_limits<int64_t>::max());
  big.set_local_dong(1);
  absl::Status s = ComputeTotal(&big, "needs[I.6].planned");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("needs[I.6].planned.total_dong"));
}

// A small catalog: P with children A (split) and B (no split).
std::shared_ptr<const CatalogView> SmallCatalog() {
  v1::ImportCatalogRequest request;
  request.mutable_catalog()->set_year(2026);
  v1::CatalogTable* table = request.mutable_catalog()->add_tables();
  table->set_id("phu-luc-3");
  table->set_funding_kind(v1::FUNDING_KIND_RECURRENT);
  auto add = [&](const char* code, const char* parent, int key, bool split) {
    v1::Line* line = request.add_lines();
    line->set_code(code);
    line->set_parent(parent);
    line->set_table("phu-luc-3");
    line->set_sort_key(key);
    line->set_label(code);
    line->set_source_split(split);
  };
  add("B", "P", 30, false);
  add("P", "", 10, true);
  add("A", "P", 20, true);
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(request);
  EXPECT_TRUE(view.ok()) << view.status();
  return *view;
}

TEST(CatalogViewTest, OrdersAndIndexes) {
  std::shared_ptr<const CatalogView> view = SmallCatalog();
  ASSERT_EQ(view->lines().size(), 3u);
  EXPECT_EQ(view->lines()[0].code(), "P");
  EXPECT_TRUE(view->lines()[0].has_children());
  EXPECT_EQ(view->lines()[0].name(), "catalogs/2026/lines/P");
  EXPECT_EQ(view->Children("P").size(), 2u);
  EXPECT_EQ(view->catalog().line_count(), 3);
}

TEST(CatalogViewTest, RefusesBrokenTrees) {
  v1::ImportCatalogRequest request;
  request.mutable_catalog()->set_year(2026);
  v1::CatalogTable* table = request.mutable_catalog()->add_tables();
  table->set_id("t");
  table->set_funding_kind(v1::FUNDING_KIND_RECURRENT);
  v1::Line* a = request.add_lines();
  a->set_code("A");
  a->set_parent("B");
  a->set_table("t");
  a->set_sort_key(1);
  a->set_label("a");
  v1::Line* b = request.add_lines();
  *b = *a;
  b->set_code("B");
  b->set_parent("A");
  b->set_sort_key(2);
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(request);
  ASSERT_FALSE(view.ok());
  EXPECT_THAT(view.status().message(), HasSubstr("cycle"));
  b->set_parent("Z");
  view = CatalogView::Build(request);
  ASSERT_FALSE(view.ok());
  EXPECT_THAT(view.status().message(), HasSubstr("lines[1].parent"));
  b->set_parent("");
  b->set_sort_key(1);
  view = CatalogView::Build(request);
  ASSERT_FALSE(view.ok());
  EXPECT_THAT(view.status().message(), HasSubstr("sort_key"));
}

TEST(NeedsTest, CheckNeedRefusesNamingTheField) {
  std::shared_ptr<const CatalogView> view = SmallCatalog();
  v1::Need need;
  need.set_line("P");
  need.mutable_planned()->set_local_dong(1);
  EXPECT_THAT(CheckNeed(*view, need, "writes[0]").message(),
              HasSubstr("writes[0].planned.local_dong"));  // computed on a parent
  need.set_line("B");
  EXPECT_THAT(CheckNeed(*view, need, "writes[0]").message(), HasSubstr("single unspecified"));
  need.set_line("A");
  need.mutable_planned()->set_local_dong(-1);
  EXPECT_THAT(CheckNeed(*view, need, "writes[0]").message(), HasSubstr("negative"));
  need.mutable_planned()->set_local_dong(1);
  need.set_beneficiaries(-2);
  EXPECT_THAT(CheckNeed(*view, need, "writes[0]").message(), HasSubstr("writes[0].beneficiaries"));
  need.clear_beneficiaries();
  EXPECT_TRUE(CheckNeed(*view, need, "writes[0]").ok());
}

TEST(NeedsTest, ParentsAreSumsAndStatedTotalsAreFindings) {
  std::shared_ptr<const CatalogView> view = SmallCatalog();
  NeedMap own;
  v1::Need& a = own["A"];
  a.set_line("A");
  a.mutable_planned()->set_central_dong(3274 * kMillion);
  a.mutable_planned()->set_local_dong(100 * kMillion);
  a.mutable_planned()->set_unspecified_dong(5 * kMillion);
  v1::Need& b = own["B"];
  b.set_line("B");
  b.mutable_planned()->set_unspecified_dong(16224 * kMillion);
  v1::Need& p = own["P"];
  p.set_line("P");
  p.set_stated_total_dong(19498 * kMillion);
  absl::StatusOr<std::vector<v1::Need>> needs = ComputeNeeds(*view, own);
  ASSERT_TRUE(needs.ok()) << needs.status();
  ASSERT_EQ(needs->size(), 3u);
  EXPECT_EQ((*needs)[0].line(), "P");
  EXPECT_EQ((*needs)[0].planned().total_dong(), 19603 * kMillion);
  EXPECT_EQ((*needs)[0].planned().central_dong(), 3274 * kMillion);
  EXPECT_FALSE((*needs)[0].planned().has_other_dong());

  std::vector<v1::Finding> findings = EvaluateFindings(*view, "provinces/01", *needs);
  ASSERT_EQ(findings.size(), 2u);
  const v1::Finding& total = findings[0];
  EXPECT_EQ(total.name(), "provinces/01/budget-findings/2026/P/stated-total");
  EXPECT_EQ(total.outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(total.severity(), v1::SEVERITY_ERROR);
  EXPECT_EQ(total.stated(), 19498 * kMillion);
  EXPECT_EQ(total.expected(), 19603 * kMillion);
  EXPECT_EQ(total.message(), "Tổng 19.498 ≠ 3.379 + 16.224 = 19.603 (triệu đồng)");
  EXPECT_TRUE(total.blocks_submission());
  EXPECT_EQ(findings[1].check(), v1::BUDGET_CHECK_SOURCE_SPLIT_MISSING);
  EXPECT_EQ(findings[1].line(), "A");  // B takes no split, so it is not flagged
  EXPECT_EQ(findings[1].stated(), 5 * kMillion);
}

TEST(RateTest, BasisPointsHalfAwayFromZero) {
  EXPECT_EQ(DisbursementRateBp(138971000, 235544000), 5900);  // 58.99993 %
  EXPECT_EQ(DisbursementRateBp(1, 3), 3333);
  EXPECT_EQ(DisbursementRateBp(2, 3), 6667);
  EXPECT_EQ(DisbursementRateBp(1, 20000), 1);  // 0.005 % rounds up
  EXPECT_EQ(DisbursementRateBp(5, 0), absl::nullopt);
  EXPECT_EQ(
      DisbursementRateBp(std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()),
      10000);
  EXPECT_EQ(FormatPercentBp(5900), "59,00");
  EXPECT_EQ(FormatPercentBp(3333), "33,33");
  EXPECT_EQ(FormatPercentBp(5), "0,05");
  EXPECT_EQ(FormatPercentBp(123456), "1.234,56");
}

}  // namespace
}  // namespace htx::budget
