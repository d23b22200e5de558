#include "services/indicator/indicator_logic.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/indicator/catalog_data.h"

namespace htx::indicator {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// INVALID_ARGUMENT naming `field` in its ErrorInfo.
MATCHER_P(InvalidArgumentFor, field, "is INVALID_ARGUMENT naming " + std::string(field)) {
  const absl::Status status = arg;
  *result_listener << "status is " << status.ToString() << " naming \""
                   << ErrorMetadata(status, "field") << "\"";
  return status.code() == absl::StatusCode::kInvalidArgument &&
         ErrorMetadata(status, "field") == field;
}

Decimal D(absl::string_view text) {
  absl::StatusOr<Decimal> d = Decimal::Parse(text, "test");
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : Decimal();
}

std::string S(absl::string_view text, int max_decimals = 6, bool negative = true) {
  absl::StatusOr<Decimal> d = Decimal::Parse(text, "f", max_decimals, negative);
  return d.ok() ? d->ToString() : std::string(d.status().message());
}

absl::Status ParseError(absl::string_view text, int max_decimals = 6, bool negative = true) {
  return Decimal::Parse(text, "writes[3].value.number", max_decimals, negative).status();
}

// ---- Decimal ---------------------------------------------------------------------

TEST(DecimalTest, ParsesAndFormatsCanonically) {
  EXPECT_EQ(S("2962"), "2962");
  EXPECT_EQ(S("-12.5"), "-12.5");
  EXPECT_EQ(S("0.001"), "0.001");
  EXPECT_EQ(S("3200.50"), "3200.5");
  EXPECT_EQ(S("007"), "7");
  EXPECT_EQ(S("-0"), "0");
  EXPECT_EQ(S("-0.000"), "0");
  EXPECT_EQ(S("0.000001"), "0.000001");
  EXPECT_EQ(S("613044"), "613044");
  EXPECT_EQ(Decimal::FromInt(-2745).ToString(), "-2745");
  EXPECT_EQ(Decimal().ToString(), "0");
}

TEST(DecimalTest, RefusesWhatIsNotAPlainDecimalNamingTheField) {
  for (absl::string_view bad : {"", "2,675", "2.675,5", "1e3", "1E3", "+5", " 5", "5 ", "1.", ".5",
                                "1.2.3", "-", "abc", "12a", "--1", "0x10"}) {
    EXPECT_THAT(ParseError(bad), InvalidArgumentFor("writes[3].value.number")) << bad;
  }
  EXPECT_THAT(S("2,675"), ::testing::HasSubstr("thousands"));
  EXPECT_THAT(S("1e3"), ::testing::HasSubstr("exponent"));
}

TEST(DecimalTest, DecimalsSignAndMagnitudeLimits) {
  EXPECT_EQ(S("1.123456"), "1.123456");
  EXPECT_THAT(ParseError("1.1234567"), InvalidArgumentFor("writes[3].value.number"));
  EXPECT_THAT(ParseError("1.5", 0), InvalidArgumentFor("writes[3].value.number"));
  EXPECT_THAT(S("1.5", 0), ::testing::HasSubstr("whole number"));
  EXPECT_THAT(ParseError("1.0", 0), InvalidArgumentFor("writes[3].value.number"));
  EXPECT_EQ(S("3200.125", 3), "3200.125");
  EXPECT_THAT(ParseError("3200.1255", 3), InvalidArgumentFor("writes[3].value.number"));
  EXPECT_THAT(ParseError("-1", 0, false), InvalidArgumentFor("writes[3].value.number"));
  EXPECT_THAT(S("-1", 0, false), ::testing::HasSubstr("negative"));
  EXPECT_EQ(S("-1", 0, true), "-1");
  // Below 10^24 in magnitude, leading zeros aside.
  EXPECT_EQ(S("999999999999999999999999.999999"), "999999999999999999999999.999999");
  EXPECT_EQ(S("-999999999999999999999999"), "-999999999999999999999999");
  EXPECT_EQ(S("0000000000000000000000000001"), "1");
  EXPECT_THAT(ParseError("1000000000000000000000000"),
              InvalidArgumentFor("writes[3].value.number"));
}

TEST(DecimalTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(D("107.925").ToString(2), "107.93");
  EXPECT_EQ(D("-107.925").ToString(2), "-107.93");
  EXPECT_EQ(D("107.924999").ToString(2), "107.92");
  EXPECT_EQ(D("2.5").ToString(0), "3");
  EXPECT_EQ(D("-2.5").ToString(0), "-3");
  EXPECT_EQ(D("-0.004").ToString(2), "0");
  EXPECT_EQ(D("1.999").ToString(2), "2");
  EXPECT_EQ(D("100.10").ToString(2), "100.1");  // canonical: no trailing zero
  EXPECT_EQ(D("1.5").ToString(6), "1.5");
}

TEST(DecimalTest, ArithmeticIsExact) {
  EXPECT_EQ((D("2675") + D("250") - D("13")).ToString(), "2912");
  EXPECT_EQ((D("0.1") + D("0.2")).ToString(), "0.3");
  EXPECT_TRUE(D("0.1") + D("0.2") == D("0.3"));
  EXPECT_EQ((D("3000") * D("2441")).ToString(), "7323000");
  EXPECT_EQ((D("1.5") * D("-1.5")).ToString(), "-2.25");
  EXPECT_EQ((D("0.000001") * D("0.5")).ToString(), "0.000001");  // half away from zero
  EXPECT_EQ((D("-0.000001") * D("0.5")).ToString(), "-0.000001");
  EXPECT_EQ((D("0.000001") * D("0.4")).ToString(), "0");
  EXPECT_EQ(D("-3").Abs().ToString(), "3");
  EXPECT_TRUE(D("2698") < D("2745"));
  EXPECT_TRUE(D("2745") <= D("2745"));
  EXPECT_TRUE(D("26") != D("25"));
}

TEST(DecimalTest, DivisionRoundsOnceAndRefusesZero) {
  EXPECT_EQ((D("2912") * D("100")).DividedBy(D("2698"), 2)->ToString(), "107.93");
  EXPECT_EQ(D("1").DividedBy(D("3"))->ToString(), "0.333333");
  EXPECT_EQ(D("2").DividedBy(D("3"))->ToString(), "0.666667");
  EXPECT_EQ(D("-2").DividedBy(D("3"))->ToString(), "-0.666667");
  EXPECT_EQ(D("8073000").DividedBy(D("2941"), 3)->ToString(), "2744.985");
  EXPECT_EQ(D("7").DividedBy(D("2"), 0)->ToString(), "4");
  // 1.004999999... would round to 1.005000 at 6 digits and then to 1.01;
  // one rounding to 2 digits gives 1.
  EXPECT_EQ(D("1004999.999").DividedBy(D("1000000"), 2)->ToString(), "1");
  EXPECT_FALSE(D("1").DividedBy(D("0")).has_value());
  EXPECT_FALSE(D("0").DividedBy(Decimal(), 2).has_value());
}

TEST(DecimalTest, LargeProductsStayExact) {
  // 1.2 × 10^23 × 10^4 does not fit 128 bits at 10^-12 and takes the wide path.
  const Decimal big = D("123456789012345678901234");
  const Decimal product = big * D("10000");
  EXPECT_EQ(product.ToString(), "1234567890123456789012340000");
  EXPECT_EQ(product.DividedBy(D("10000"))->ToString(), "123456789012345678901234");
  EXPECT_EQ((D("999999999999999999999999.5") * D("2")).ToString(), "1999999999999999999999999");
}

// ---- Catalog -----------------------------------------------------------------------

v1::Indicator Row(const std::string& code, const std::string& parent, v1::ChildRelation relation,
                  v1::Aggregation aggregation, int sort_key) {
  v1::Indicator ind;
  ind.set_code(code);
  ind.set_table("t");
  ind.set_parent(parent);
  ind.set_relation(relation);
  ind.set_aggregation(aggregation);
  ind.set_sort_key(sort_key);
  ind.set_label("Chỉ tiêu " + code);
  ind.set_unit_of_measure("HTX");
  return ind;
}

void AddColumn(v1::CatalogTable* t, const std::string& id, v1::ColumnKind kind, int year,
               bool registry = false) {
  v1::Column* c = t->add_columns();
  c->set_id(id);
  c->set_kind(kind);
  c->set_year(year);
  if (registry) {
    c->mutable_registry_as_of()->set_year(year);
    c->mutable_registry_as_of()->set_month(12);
    c->mutable_registry_as_of()->set_day(31);
  }
}

v1::ValidationRule Rule(const std::string& id, v1::RuleKind kind, v1::Severity severity,
                        const std::string& subject, std::vector<std::string> parts) {
  v1::ValidationRule r;
  r.set_name(id);
  r.set_kind(kind);
  r.set_severity(severity);
  r.set_subject(subject);
  for (const std::string& p : parts) r.add_parts(p);
  return r;
}

// A small catalog: a heading, a stock with its active part and flows, two
// averages per active organisation, a share of active in total.
v1::ImportCatalogRequest Mini() {
  v1::ImportCatalogRequest req;
  v1::Catalog* c = req.mutable_catalog();
  c->set_year(2026);
  v1::CatalogTable* t = c->add_tables();
  t->set_id("t");
  AddColumn(t, "actual_2024", v1::COLUMN_KIND_ACTUAL, 2024, /*registry=*/true);
  AddColumn(t, "plan_2025", v1::COLUMN_KIND_PLAN, 2025);
  AddColumn(t, "estimate_2025", v1::COLUMN_KIND_ESTIMATE, 2025);
  v1::Indicator h = Row("H", "", v1::CHILD_RELATION_UNSPECIFIED, v1::AGGREGATION_UNSPECIFIED, 1);
  h.set_heading(true);
  *req.add_indicators() = h;
  v1::Indicator a = Row("A", "H", v1::CHILD_RELATION_SECTION, v1::AGGREGATION_SUM, 2);
  a.mutable_derivation()->set_kind(registry::v1::ORGANIZATION_KIND_HTX);
  a.mutable_derivation()->add_metrics(v1::REGISTRY_METRIC_TOTAL);
  *req.add_indicators() = a;
  *req.add_indicators() = Row("A.a", "A", v1::CHILD_RELATION_OF_WHICH, v1::AGGREGATION_SUM, 3);
  *req.add_indicators() = Row("A.b", "A", v1::CHILD_RELATION_RELATED, v1::AGGREGATION_SUM, 4);
  *req.add_indicators() = Row("A.c", "A", v1::CHILD_RELATION_RELATED, v1::AGGREGATION_SUM, 5);
  v1::Indicator r = Row("R", "H", v1::CHILD_RELATION_SECTION, v1::AGGREGATION_WEIGHTED_AVERAGE, 6);
  r.set_weight_indicator("A.a");
  r.set_max_decimals(3);
  *req.add_indicators() = r;
  v1::Indicator p = Row("P", "H", v1::CHILD_RELATION_SECTION, v1::AGGREGATION_WEIGHTED_AVERAGE, 7);
  p.set_weight_indicator("A.a");
  p.set_max_decimals(3);
  p.set_allow_negative(true);
  *req.add_indicators() = p;
  v1::Indicator sh = Row("SH", "H", v1::CHILD_RELATION_SECTION, v1::AGGREGATION_SHARE, 8);
  sh.set_numerator_indicator("A.a");
  sh.set_denominator_indicator("A");
  sh.set_max_decimals(2);
  *req.add_indicators() = sh;
  *req.add_rules() =
      Rule("active", v1::RULE_KIND_ACTIVE_LE_TOTAL, v1::SEVERITY_ERROR, "A", {"A.a"});
  *req.add_rules() =
      Rule("stock-flow", v1::RULE_KIND_STOCK_FLOW, v1::SEVERITY_WARNING, "A", {"A.b", "A.c"});
  v1::ValidationRule share =
      Rule("share", v1::RULE_KIND_SHARE_MATCHES, v1::SEVERITY_ERROR, "SH", {});
  share.set_tolerance("0.1");
  *req.add_rules() = share;
  *req.add_rules() = Rule("catalogs/2026/rules/registry-a", v1::RULE_KIND_REGISTRY_COUNT,
                          v1::SEVERITY_WARNING, "A", {});
  return req;
}

std::shared_ptr<const CatalogView> MiniView() {
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(Mini());
  EXPECT_TRUE(view.ok()) << view.status();
  return *view;
}

absl::Status BuildError(const v1::ImportCatalogRequest& req) {
  return CatalogView::Build(req).status();
}

TEST(CatalogViewTest, ShippedCatalogBuilds) {
  absl::StatusOr<v1::ImportCatalogRequest> req = LoadCatalogFile(kCatalog2026Path);
  ASSERT_TRUE(req.ok()) << req.status();
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(*req);
  ASSERT_TRUE(view.ok()) << view.status();
  const CatalogView& v = **view;
  EXPECT_EQ(v.catalog().name(), "catalogs/2026");
  EXPECT_EQ(v.catalog().tables_size(), 2);
  EXPECT_THAT(v.TableIndicators("phu-luc-1"), SizeIs(43));
  EXPECT_THAT(v.TableIndicators("phu-luc-2"), SizeIs(24));
  EXPECT_EQ(v.catalog().indicator_count(), 67);
  EXPECT_EQ(v.catalog().rule_count(), static_cast<int>(v.rules().size()));
  EXPECT_EQ(v.FindIndicator("I.5")->weight_indicator(), "I.1.a");
  EXPECT_EQ(v.FindIndicator("I.6")->weight_indicator(), "I.1.a");
  EXPECT_TRUE(v.FindIndicator("I.6")->allow_negative());
  EXPECT_EQ(v.FindIndicator("I.7")->weight_indicator(), "I.3");
  EXPECT_EQ(v.FindIndicator("I.1.a")->name(), "catalogs/2026/indicators/I.1.a");
  EXPECT_EQ(v.FindIndicator("S1.5")->derivation().sector(), registry::v1::SECTOR_TRADE);
  EXPECT_THAT(v.FindIndicator("I.1.d")->derivation().metrics(),
              ElementsAre(v1::REGISTRY_METRIC_RATED_GOOD, v1::REGISTRY_METRIC_RATED_FAIR));
  EXPECT_EQ(v.FindIndicator("II.2")->derivation().metrics(0), v1::REGISTRY_METRIC_MEMBER_HTX);
  EXPECT_TRUE(v.FindIndicator("I")->heading());
  EXPECT_EQ(v.FindColumn(*v.FindIndicator("S1"), "actual_2023")->registry_as_of().year(), 2023);
  EXPECT_EQ(v.FindColumn(*v.FindIndicator("I.1"), "actual_2023"), nullptr);
  EXPECT_EQ(v.rules().front().name(), "catalogs/2026/rules/active-le-total-htx");
  // Catalog order: Phụ lục I first, rows as in the file.
  EXPECT_EQ(v.indicators().front().code(), "I");
  EXPECT_EQ(v.indicators().back().code(), "S3.7");
}

TEST(CatalogViewTest, MiniCatalogBuildsInOrder) {
  v1::ImportCatalogRequest req = Mini();
  std::swap(*req.mutable_indicators(0), *req.mutable_indicators(7));  // order by sort_key
  absl::StatusOr<std::shared_ptr<const CatalogView>> view = CatalogView::Build(req);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->indicators().front().code(), "H");
  EXPECT_EQ((*view)->indicators().back().code(), "SH");
  EXPECT_EQ((*view)->rules().back().name(), "catalogs/2026/rules/registry-a");
  EXPECT_EQ((*view)->FindIndicator("nope"), nullptr);
  EXPECT_EQ((*view)->FindTable("nope"), nullptr);
}

TEST(CatalogViewTest, RefusesDuplicateCode) {
  v1::ImportCatalogRequest req = Mini();
  v1::Indicator dup = req.indicators(1);
  dup.set_sort_key(99);
  *req.add_indicators() = dup;
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[8].code"));
}

TEST(CatalogViewTest, RefusesMissingParent) {
  v1::ImportCatalogRequest req = Mini();
  req.mutable_indicators(2)->set_parent("Z");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[2].parent"));
}

TEST(CatalogViewTest, RefusesUnknownWeight) {
  v1::ImportCatalogRequest req = Mini();
  req.mutable_indicators(5)->set_weight_indicator("NOPE");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[5].weight_indicator"));
  req = Mini();
  req.mutable_indicators(5)->clear_weight_indicator();
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[5].weight_indicator"));
  req = Mini();
  req.mutable_indicators(5)->set_weight_indicator("P");  // an average cannot weight
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[5].weight_indicator"));
  req = Mini();
  req.mutable_indicators(7)->set_denominator_indicator("H");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[7].denominator_indicator"));
}

TEST(CatalogViewTest, RefusesBadColumns) {
  v1::ImportCatalogRequest req = Mini();
  req.mutable_catalog()->mutable_tables(0)->mutable_columns(1)->set_id("plan-2025");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.tables[0].columns[1].id"));
  req = Mini();
  req.mutable_catalog()->mutable_tables(0)->mutable_columns(1)->set_id("actual_2025");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.tables[0].columns[1].kind"));
  req = Mini();
  req.mutable_catalog()->mutable_tables(0)->mutable_columns(1)->set_year(2024);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.tables[0].columns[1].year"));
  req = Mini();
  req.mutable_catalog()->mutable_tables(0)->mutable_columns(2)->set_id("plan_2025");
  req.mutable_catalog()->mutable_tables(0)->mutable_columns(2)->set_kind(v1::COLUMN_KIND_PLAN);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.tables[0].columns[2].id"));
  req = Mini();
  v1::Column* partial = req.mutable_catalog()->mutable_tables(0)->add_columns();
  partial->set_id("partial_2025_06_31");
  partial->set_kind(v1::COLUMN_KIND_PARTIAL_ACTUAL);
  partial->set_year(2025);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.tables[0].columns[3].id"));
  partial->set_id("partial_2025_06_30");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.tables[0].columns[3].as_of"));
  partial->mutable_as_of()->set_year(2025);
  partial->mutable_as_of()->set_month(6);
  partial->mutable_as_of()->set_day(30);
  EXPECT_TRUE(CatalogView::Build(req).ok());
}

TEST(CatalogViewTest, RefusesBrokenTreesAndRules) {
  v1::ImportCatalogRequest req = Mini();
  req.mutable_catalog()->set_year(1999);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("catalog.year"));
  req = Mini();
  req.mutable_indicators(2)->set_relation(v1::CHILD_RELATION_UNSPECIFIED);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[2].relation"));
  req = Mini();
  req.mutable_indicators(1)->set_parent("A.a");  // A → A.a → A
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[1].relation"));
  req.mutable_indicators(1)->set_relation(v1::CHILD_RELATION_OF_WHICH);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[1].parent"));
  req = Mini();
  req.mutable_indicators(0)->set_aggregation(v1::AGGREGATION_SUM);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[0].aggregation"));
  req = Mini();
  req.mutable_indicators(3)->set_aggregation(v1::AGGREGATION_UNSPECIFIED);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[3].aggregation"));
  req = Mini();
  req.mutable_indicators(3)->set_table("nope");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[3].table"));
  req = Mini();
  req.mutable_indicators(3)->set_code("A b");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[3].code"));
  req = Mini();
  req.mutable_indicators(3)->set_sort_key(2);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[3].sort_key"));
  req = Mini();
  req.mutable_indicators(3)->mutable_derivation()->add_metrics(v1::REGISTRY_METRIC_TOTAL);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("indicators[3].derivation.kind"));
  req = Mini();
  req.mutable_rules(1)->set_parts(1, "Z");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[1].parts[1]"));
  req = Mini();
  req.mutable_rules(1)->add_parts("A.a");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[1].parts"));
  req = Mini();
  req.mutable_rules(0)->set_subject("H");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[0].subject"));
  req = Mini();
  req.mutable_rules(3)->set_subject("A.b");  // no derivation
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[3].subject"));
  req = Mini();
  req.mutable_rules(2)->set_tolerance("-1");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[2].tolerance"));
  req = Mini();
  req.mutable_rules(2)->set_name("Share");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[2].name"));
  req = Mini();
  req.mutable_rules(2)->set_name("active");
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[2].name"));
  req = Mini();
  req.mutable_rules(2)->set_severity(v1::SEVERITY_UNSPECIFIED);
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[2].severity"));
  req = Mini();
  *req.add_rules() = Rule("sum", v1::RULE_KIND_BREAKDOWN_SUM, v1::SEVERITY_ERROR, "A", {});
  EXPECT_THAT(BuildError(req), InvalidArgumentFor("rules[4].parts"));  // A has no BREAKDOWN rows
}

// ---- Writes ------------------------------------------------------------------------

v1::ValueWrite Write(const std::string& name, v1::ValueState state,
                     const std::string& number = "") {
  v1::ValueWrite w;
  w.set_name(name);
  w.mutable_value()->set_state(state);
  w.mutable_value()->set_number(number);
  return w;
}

constexpr char kUnit[] = "provinces/01/communes/00004";

std::string Name(const std::string& column, const std::string& code,
                 const std::string& unit = kUnit, int year = 2026) {
  return FormatValueName(ValueName{unit, year, column, code});
}

TEST(CheckWriteTest, AcceptsNumbersDashesAndBlanks) {
  auto view = MiniView();
  EXPECT_TRUE(
      CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_NUMBER, "2698"), "w").ok());
  EXPECT_TRUE(CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_DASH), "w").ok());
  EXPECT_TRUE(CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_BLANK), "w").ok());
  EXPECT_TRUE(
      CheckWrite(*view, Write(Name("actual_2024", "P"), v1::VALUE_STATE_NUMBER, "-20.5"), "w")
          .ok());
  EXPECT_TRUE(CheckWrite(*view,
                         Write(Name("actual_2024", "A", "provinces/01/agencies/lmhtx"),
                               v1::VALUE_STATE_NUMBER, "1"),
                         "w")
                  .ok());
}

TEST(CheckWriteTest, RefusesHeading) {
  auto view = MiniView();
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "H"), v1::VALUE_STATE_NUMBER, "1"), "writes[0]"),
      InvalidArgumentFor("writes[0].name"));
}

TEST(CheckWriteTest, RefusesUnknownColumnAndIndicator) {
  auto view = MiniView();
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2026", "A"), v1::VALUE_STATE_NUMBER, "1"), "writes[1]"),
      InvalidArgumentFor("writes[1].name"));
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "Q"), v1::VALUE_STATE_NUMBER, "1"), "writes[1]"),
      InvalidArgumentFor("writes[1].name"));
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "A", kUnit, 2025), v1::VALUE_STATE_NUMBER, "1"),
                 "writes[1]"),
      InvalidArgumentFor("writes[1].name"));
}

TEST(CheckWriteTest, RefusesTooManyDecimals) {
  auto view = MiniView();
  EXPECT_THAT(CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_NUMBER, "2698.5"),
                         "writes[2]"),
              InvalidArgumentFor("writes[2].value.number"));
  EXPECT_THAT(CheckWrite(*view, Write(Name("plan_2025", "R"), v1::VALUE_STATE_NUMBER, "3000.1234"),
                         "writes[2]"),
              InvalidArgumentFor("writes[2].value.number"));
  EXPECT_TRUE(
      CheckWrite(*view, Write(Name("plan_2025", "R"), v1::VALUE_STATE_NUMBER, "3000.123"), "w")
          .ok());
}

TEST(CheckWriteTest, RefusesNegativeWhereNotAllowed) {
  auto view = MiniView();
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_NUMBER, "-1"), "writes[3]"),
      InvalidArgumentFor("writes[3].value.number"));
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "R"), v1::VALUE_STATE_NUMBER, "-1"), "writes[3]"),
      InvalidArgumentFor("writes[3].value.number"));
}

TEST(CheckWriteTest, RefusesBadNamesAndCells) {
  auto view = MiniView();
  for (const std::string& bad :
       {std::string(""), std::string("provinces/1/indicator-values/2026/plan_2025/A"),
        std::string("provinces/01/indicator-values/2026/plan_2025"),
        std::string("provinces/01/values/2026/plan_2025/A"),
        std::string("provinces/01/communes/4/indicator-values/2026/plan_2025/A"),
        std::string("provinces/01/indicator-values/26/plan_2025/A"),
        std::string("provinces/01/indicator-values/2026/kehoach_2025/A"),
        std::string("provinces/01/indicator-values/2026/plan_2025/A/x"),
        std::string("provinces/01/indicator-values/2026/plan_2025/A b")}) {
    EXPECT_THAT(CheckWrite(*view, Write(bad, v1::VALUE_STATE_NUMBER, "1"), "writes[4]"),
                InvalidArgumentFor("writes[4].name"))
        << bad;
  }
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_DASH, "0"), "writes[5]"),
      InvalidArgumentFor("writes[5].value.number"));
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_NUMBER, ""), "writes[5]"),
      InvalidArgumentFor("writes[5].value.number"));
  EXPECT_THAT(
      CheckWrite(*view, Write(Name("plan_2025", "A"), v1::VALUE_STATE_UNSPECIFIED), "writes[5]"),
      InvalidArgumentFor("writes[5].value.state"));
  v1::ValueWrite no_value;
  no_value.set_name(Name("plan_2025", "A"));
  EXPECT_THAT(CheckWrite(*view, no_value, "writes[5]"), InvalidArgumentFor("writes[5].value"));
}

TEST(ValueNameTest, RoundTrips) {
  absl::StatusOr<ValueName> n =
      ParseValueName("provinces/01/indicator-values/2026/partial_2025_06_30/I.1.a", "name");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->unit, "provinces/01");
  EXPECT_EQ(n->year, 2026);
  EXPECT_EQ(n->column, "partial_2025_06_30");
  EXPECT_EQ(n->code, "I.1.a");
  EXPECT_EQ(FormatValueName(*n), "provinces/01/indicator-values/2026/partial_2025_06_30/I.1.a");
}

// ---- Rules, tables, roll-ups on the small catalog --------------------------------------

v1::CellValue Num(const std::string& n) {
  v1::CellValue v;
  v.set_state(v1::VALUE_STATE_NUMBER);
  v.set_number(n);
  return v;
}
v1::CellValue DashCell() {
  v1::CellValue v;
  v.set_state(v1::VALUE_STATE_DASH);
  return v;
}

std::string Show(const v1::CellValue& v) {
  switch (v.state()) {
    case v1::VALUE_STATE_NUMBER:
      return v.number();
    case v1::VALUE_STATE_DASH:
      return "-";
    default:
      return "";
  }
}

const v1::Finding* Find(const std::vector<v1::Finding>& findings, absl::string_view rule,
                        absl::string_view column) {
  for (const v1::Finding& f : findings) {
    if (absl::EndsWith(f.rule(), absl::StrCat("/", rule)) && f.column() == column) return &f;
  }
  return nullptr;
}

TEST(EvaluateRulesTest, ChecksEachKindAndSaysWhatCannotBeChecked) {
  auto view = MiniView();
  ValueMap values;
  values[{"actual_2024", "A"}] = Num("100");
  values[{"actual_2024", "A.a"}] = Num("120");  // more active than total
  values[{"actual_2024", "SH"}] = Num("120");
  values[{"plan_2025", "A"}] = Num("110");
  values[{"plan_2025", "A.a"}] = Num("90");
  values[{"plan_2025", "A.b"}] = Num("15");
  values[{"plan_2025", "A.c"}] = DashCell();
  values[{"plan_2025", "SH"}] = Num("81.9");  // 90/110 = 81.82, within 0.1
  values[{"estimate_2025", "A"}] = Num("105");
  values[{"estimate_2025", "A.a"}] = Num("0");
  values[{"estimate_2025", "A.b"}] = Num("8");
  // estimate_2025 A.c blank
  values[{"estimate_2025", "SH"}] = Num("10");
  RegistryFigures registry;
  registry[{"actual_2024", "A"}] = Num("101");

  std::vector<v1::Finding> f = EvaluateRules(*view, kUnit, values, &registry);
  const v1::Finding* active = Find(f, "active", "actual_2024");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(active->left(), "120");
  EXPECT_EQ(active->right(), "100");
  EXPECT_EQ(active->severity(), v1::SEVERITY_ERROR);
  EXPECT_TRUE(active->blocks_submission());
  EXPECT_EQ(active->name(), absl::StrCat(kUnit, "/indicator-findings/2026/active/actual_2024"));
  EXPECT_EQ(active->rule(), "catalogs/2026/rules/active");
  EXPECT_EQ(active->message(), "Thực hiện 2024: A.a = 120 > A = 100");
  EXPECT_EQ(Find(f, "active", "plan_2025")->outcome(), v1::FINDING_OUTCOME_PASSED);

  // Stock-flow: no 2023 in the table, so nothing for actual_2024; a dash is 0.
  EXPECT_EQ(Find(f, "stock-flow", "actual_2024"), nullptr);
  const v1::Finding* sf = Find(f, "stock-flow", "plan_2025");
  EXPECT_EQ(sf->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(sf->left(), "110");
  EXPECT_EQ(sf->right(), "115");
  EXPECT_EQ(sf->message(), "Kế hoạch 2025: 110 ≠ 100 + 15 - 0 = 115");
  EXPECT_THAT(sf->operands(), SizeIs(4));
  EXPECT_EQ(sf->operands(1).column(), "actual_2024");
  const v1::Finding* blank = Find(f, "stock-flow", "estimate_2025");
  EXPECT_EQ(blank->outcome(), v1::FINDING_OUTCOME_NOT_CHECKABLE);
  EXPECT_EQ(blank->left(), "105");
  EXPECT_EQ(blank->right(), "");
  EXPECT_FALSE(blank->blocks_submission());
  EXPECT_THAT(blank->message(), ::testing::HasSubstr("A.c (estimate_2025) để trống"));

  // Share: within tolerance passes; 0 as denominator cannot be checked.
  EXPECT_EQ(Find(f, "share", "plan_2025")->outcome(), v1::FINDING_OUTCOME_PASSED);
  EXPECT_EQ(Find(f, "share", "plan_2025")->right(), "81.82");
  EXPECT_EQ(Find(f, "share", "actual_2024")->outcome(), v1::FINDING_OUTCOME_PASSED);
  EXPECT_EQ(Find(f, "share", "estimate_2025")->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(Find(f, "share", "estimate_2025")->right(), "0");

  // Registry: only in the column with a cut-off.
  const v1::Finding* reg = Find(f, "registry-a", "actual_2024");
  EXPECT_EQ(reg->outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(reg->right(), "101");
  EXPECT_TRUE(reg->operands(1).from_registry());
  EXPECT_EQ(Find(f, "registry-a", "plan_2025"), nullptr);
  std::vector<v1::Finding> without = EvaluateRules(*view, kUnit, values, nullptr);
  EXPECT_EQ(Find(without, "registry-a", "actual_2024")->outcome(),
            v1::FINDING_OUTCOME_NOT_CHECKABLE);

  // Ordered by subject's catalog order, then column, then rule.
  std::vector<std::string> order;
  for (const v1::Finding& x : f) order.push_back(x.name().substr(x.name().find("2026/") + 5));
  EXPECT_THAT(
      order, ElementsAre("active/actual_2024", "registry-a/actual_2024", "active/plan_2025",
                         "stock-flow/plan_2025", "active/estimate_2025", "stock-flow/estimate_2025",
                         "share/actual_2024", "share/plan_2025", "share/estimate_2025"));

  v1::FindingSummary s = Summarize(f);
  EXPECT_EQ(s.errors(), 2);  // active 2024, share 2025 estimate
  EXPECT_EQ(s.warnings(), 2);
  EXPECT_EQ(s.unexplained_warnings(), 2);
  EXPECT_EQ(s.not_checkable(), 1);
  EXPECT_EQ(s.blocking(), 4);
  f[1].mutable_explanation()->set_text("Hai HTX đăng ký muộn");
  s = Summarize(f);
  EXPECT_EQ(s.warnings(), 2);
  EXPECT_EQ(s.unexplained_warnings(), 1);
  EXPECT_EQ(s.blocking(), 3);
}

TEST(BuildTableTest, RowsCellsRatiosAndRegistryFigures) {
  auto view = MiniView();
  ValueMap values;
  values[{"actual_2024", "A"}] = Num("2675");
  values[{"plan_2025", "A"}] = Num("2698");
  values[{"estimate_2025", "A"}] = Num("2912");
  values[{"plan_2025", "A.c"}] = DashCell();
  values[{"estimate_2025", "A.c"}] = Num("13");
  RegistryFigures registry;
  registry[{"actual_2024", "A"}] = Num("2680");
  registry[{"plan_2025", "A"}] = Num("1");  // no cut-off in plans: never shown

  absl::StatusOr<v1::IndicatorTable> t = BuildTable(*view, "t", values, &registry);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_THAT(t->rows(), SizeIs(8));
  EXPECT_EQ(t->table().id(), "t");
  const v1::TableRow& h = t->rows(0);
  EXPECT_TRUE(h.heading());
  EXPECT_THAT(h.cells(), IsEmpty());
  EXPECT_THAT(h.ratios(), IsEmpty());
  const v1::TableRow& a = t->rows(1);
  EXPECT_EQ(a.indicator(), "A");
  EXPECT_EQ(a.level(), 1);
  EXPECT_EQ(t->rows(2).level(), 2);
  EXPECT_EQ(t->rows(2).relation(), v1::CHILD_RELATION_OF_WHICH);
  ASSERT_THAT(a.cells(), SizeIs(3));
  EXPECT_EQ(a.cells(0).value().number(), "2675");
  EXPECT_EQ(a.cells(0).registry_value().number(), "2680");
  EXPECT_FALSE(a.cells(1).has_registry_value());
  EXPECT_FALSE(t->rows(4).cells(0).has_registry_value());  // A.c: no derivation
  EXPECT_EQ(t->rows(4).cells(0).value().state(), v1::VALUE_STATE_BLANK);
  EXPECT_EQ(t->rows(4).cells(1).value().state(), v1::VALUE_STATE_DASH);

  // plan_2025 growth, estimate_2025 % of plan and growth.
  ASSERT_THAT(a.ratios(), SizeIs(3));
  EXPECT_EQ(a.ratios(0).kind(), v1::RATIO_KIND_GROWTH);
  EXPECT_EQ(a.ratios(0).column(), "plan_2025");
  EXPECT_EQ(a.ratios(0).base_column(), "actual_2024");
  EXPECT_EQ(a.ratios(0).value().number(), "0.86");
  EXPECT_EQ(a.ratios(1).kind(), v1::RATIO_KIND_PERCENT_OF_PLAN);
  EXPECT_EQ(a.ratios(1).base_column(), "plan_2025");
  EXPECT_EQ(a.ratios(1).value().number(), "107.93");
  EXPECT_EQ(a.ratios(2).value().number(), "8.86");
  // A dash base is 0: no ratio; a blank input: no ratio.
  const v1::TableRow& c = t->rows(4);
  EXPECT_EQ(c.ratios(1).kind(), v1::RATIO_KIND_PERCENT_OF_PLAN);
  EXPECT_EQ(c.ratios(1).value().state(), v1::VALUE_STATE_BLANK);
  EXPECT_EQ(c.ratios(0).value().state(), v1::VALUE_STATE_BLANK);

  absl::StatusOr<v1::IndicatorTable> none = BuildTable(*view, "t", values, nullptr);
  EXPECT_FALSE(none->rows(1).cells(0).has_registry_value());
  EXPECT_THAT(BuildTable(*view, "phu-luc-9", values, nullptr).status(),
              InvalidArgumentFor("table"));
}

TEST(RollupTest, SumsWeightsSharesDashesAndBlanks) {
  auto view = MiniView();
  // Two communes; R is revenue per active HTX, P profit per active HTX.
  ValueMap x, y;
  x[{"actual_2024", "A"}] = Num("2675");
  x[{"actual_2024", "A.a"}] = Num("2441");
  x[{"actual_2024", "R"}] = Num("3000");
  x[{"actual_2024", "P"}] = Num("-20");
  x[{"actual_2024", "SH"}] = Num("91.25");
  x[{"actual_2024", "A.b"}] = DashCell();
  x[{"actual_2024", "A.c"}] = DashCell();
  y[{"actual_2024", "A"}] = Num("600");
  y[{"actual_2024", "A.a"}] = Num("500");
  y[{"actual_2024", "R"}] = Num("1500");
  y[{"actual_2024", "P"}] = Num("10");
  y[{"actual_2024", "SH"}] = Num("83.33");
  y[{"actual_2024", "A.b"}] = DashCell();
  y[{"actual_2024", "A.c"}] = Num("3");
  y[{"plan_2025", "A"}] = Num("610");
  y[{"plan_2025", "R"}] = Num("1600");  // no active count to weight it by
  x[{"plan_2025", "A.a"}] = Num("5");
  x[{"plan_2025", "P"}] = DashCell();
  y[{"plan_2025", "P"}] = DashCell();
  absl::flat_hash_map<CellKey, int> reporting;
  ValueMap r = Rollup(*view, {&x, &y}, &reporting);

  auto cell = [&](const char* column, const char* code) {
    auto it = r.find(CellKey(column, code));
    return it == r.end() ? std::string("(blank)") : Show(it->second);
  };
  EXPECT_EQ(cell("actual_2024", "A"), "3275");
  EXPECT_EQ(cell("actual_2024", "A.a"), "2941");
  // National average revenue = Σ(average × active HTX) ÷ Σ active HTX
  // = (3000 × 2441 + 1500 × 500) ÷ 2941 = 2744.9847 → 2744.985.
  EXPECT_EQ(cell("actual_2024", "R"), "2744.985");
  // (-20 × 2441 + 10 × 500) ÷ 2941 = -14.9 (negative averages weigh the same way).
  EXPECT_EQ(cell("actual_2024", "P"), "-14.9");
  // The share is recomputed, 2941 ÷ 3275, not averaged from 91.25 and 83.33.
  EXPECT_EQ(cell("actual_2024", "SH"), "89.8");
  EXPECT_EQ(cell("actual_2024", "A.b"), "-");  // every reporting child printed a dash
  EXPECT_EQ(cell("actual_2024", "A.c"), "3");  // a dash counts as 0
  EXPECT_EQ(cell("plan_2025", "A"), "610");
  EXPECT_EQ(cell("plan_2025", "R"), "(blank)");
  EXPECT_EQ(cell("plan_2025", "P"), "-");      // every reporting child printed a dash
  EXPECT_EQ(cell("plan_2025", "SH"), "0.82");  // recomputed: 5 ÷ 610
  EXPECT_EQ(cell("estimate_2025", "A"), "(blank)");
  EXPECT_FALSE(r.contains(CellKey("actual_2024", "H")));

  EXPECT_EQ(reporting[CellKey("actual_2024", "A")], 2);
  EXPECT_EQ(reporting[CellKey("actual_2024", "A.b")], 2);
  EXPECT_EQ(reporting[CellKey("plan_2025", "A")], 1);
  EXPECT_EQ(reporting[CellKey("plan_2025", "R")], 1);
  EXPECT_EQ(reporting[CellKey("estimate_2025", "A")], 0);

  // No children: everything blank.
  EXPECT_TRUE(Rollup(*view, {}, nullptr).empty());
}

// ---- RollupAccumulator ------------------------------------------------------------

// One child's cells as a roll-up reads them: (column, code, cell).
struct Given {
  std::string column;
  std::string code;
  v1::CellValue cell;
};

void AddChild(RollupAccumulator& rollup, const std::string& unit, const std::vector<Given>& cells) {
  rollup.StartChild(unit);
  for (const Given& g : cells) {
    ASSERT_TRUE(rollup.Add(rollup.Find(absl::StrCat(g.column, "|", g.code)), g.cell.state(),
                           g.cell.number()));
  }
}

std::string Rolled(const RollupAccumulator& rollup, const std::string& column,
                   const std::string& code) {
  const int c = rollup.Find(column, code);
  EXPECT_GE(c, 0) << column << "|" << code;
  return c < 0 ? "(no cell)" : Show(rollup.value(c));
}

int Reporting(const RollupAccumulator& rollup, const std::string& column, const std::string& code) {
  return rollup.reporting(rollup.Find(column, code));
}

TEST(RollupAccumulatorTest, CellsAreTheCatalogsInOrder) {
  auto view = MiniView();
  RollupAccumulator rollup(*view);
  std::vector<std::string> expected;
  for (const v1::Indicator& ind : view->indicators()) {
    if (ind.heading()) continue;
    for (const v1::Column& column : view->FindTable(ind.table())->columns()) {
      expected.push_back(absl::StrCat(column.id(), "|", ind.code()));
    }
  }
  std::vector<std::string> cells;
  for (int c = 0; c < rollup.cell_count(); ++c) {
    cells.push_back(absl::StrCat(rollup.column(c).id(), "|", rollup.indicator(c).code()));
    EXPECT_EQ(rollup.Find(cells.back()), c);
    EXPECT_EQ(rollup.Find(rollup.column(c).id(), rollup.indicator(c).code()), c);
  }
  EXPECT_EQ(cells, expected);
  EXPECT_EQ(rollup.Find("actual_2024|H"), -1);  // a heading
  EXPECT_EQ(rollup.Find("plan_2026|A"), -1);    // not a column of the table
  EXPECT_EQ(rollup.Find("actual_2024|Z"), -1);  // not in the catalog
  EXPECT_EQ(rollup.Find("actual_2024"), -1);
}

TEST(RollupAccumulatorTest, SumsChildByChildInAnyCellOrder) {
  auto view = MiniView();
  RollupAccumulator rollup(*view);
  const std::vector<std::string> a = {"2675", "600", "0.5", "-3"};
  // Cells of a child in any order, the columns interleaved.
  AddChild(rollup, "c1", {{"plan_2025", "A", Num("7")}, {"actual_2024", "A", Num(a[0])}});
  AddChild(rollup, "c2", {{"actual_2024", "A", Num(a[1])}});
  AddChild(rollup, "c3", {{"actual_2024", "A", Num(a[2])}, {"actual_2024", "A.b", Num("1")}});
  AddChild(rollup, "c4", {{"actual_2024", "A", Num(a[3])}, {"actual_2024", "A.b", DashCell()}});
  rollup.Finish();

  Decimal sum;
  for (const std::string& n : a) sum = sum + D(n);
  EXPECT_EQ(Rolled(rollup, "actual_2024", "A"), sum.ToString());
  EXPECT_EQ(Reporting(rollup, "actual_2024", "A"), static_cast<int>(a.size()));
  EXPECT_EQ(Rolled(rollup, "plan_2025", "A"), "7");
  EXPECT_EQ(Reporting(rollup, "plan_2025", "A"), 1);
  EXPECT_EQ(Rolled(rollup, "actual_2024", "A.b"), "1");  // a dash counts as 0
  EXPECT_EQ(Reporting(rollup, "actual_2024", "A.b"), 2);
  EXPECT_EQ(rollup.children(), 4);
  EXPECT_THAT(rollup.silent_units(), IsEmpty());
  // The same figures as the map form over the same children.
  ValueMap values = rollup.Values();
  EXPECT_EQ(Show(values.at(CellKey("actual_2024", "A"))), sum.ToString());
  EXPECT_FALSE(values.contains(CellKey("estimate_2025", "A")));
}

TEST(RollupAccumulatorTest, WeightsAveragesByEachChildsOwnCount) {
  auto view = MiniView();
  RollupAccumulator rollup(*view);
  // R (3 decimals) weighted by A.a. The weight may come before or after the
  // average; a blank, dash or 0 weight leaves the child out of the average
  // but not out of the reporting count.
  AddChild(rollup, "c1", {{"actual_2024", "A.a", Num("2441")}, {"actual_2024", "R", Num("3000")}});
  AddChild(rollup, "c2", {{"actual_2024", "R", Num("1500.5")}, {"actual_2024", "A.a", Num("7")}});
  AddChild(rollup, "c3", {{"actual_2024", "R", Num("9000")}, {"actual_2024", "A.a", Num("0")}});
  AddChild(rollup, "c4", {{"actual_2024", "R", Num("9000")}});  // weight blank
  AddChild(rollup, "c5", {{"actual_2024", "R", Num("9000")}, {"actual_2024", "A.a", DashCell()}});
  AddChild(rollup, "c6", {{"actual_2024", "R", DashCell()}, {"actual_2024", "A.a", Num("3")}});
  // The weight of another column does not weigh this one.
  AddChild(rollup, "c7", {{"actual_2024", "R", Num("9000")}, {"plan_2025", "A.a", Num("50")}});
  // Only weights of 0 or blank: no average, yet reported.
  AddChild(rollup, "c8", {{"plan_2025", "R", Num("10")}, {"plan_2025", "A.a", Num("0")}});
  rollup.Finish();

  const Decimal weighted = D("3000") * D("2441") + D("1500.5") * D("7") + D("0") * D("3");
  const Decimal weights = D("2441") + D("7") + D("3");
  EXPECT_EQ(Rolled(rollup, "actual_2024", "R"), weighted.DividedBy(weights, 3)->ToString());
  EXPECT_NE(Rolled(rollup, "actual_2024", "R"), "9000");
  EXPECT_EQ(Reporting(rollup, "actual_2024", "R"), 7);
  EXPECT_EQ(Rolled(rollup, "plan_2025", "R"), "");  // blank: nothing to weigh by
  EXPECT_EQ(Reporting(rollup, "plan_2025", "R"), 1);
}

TEST(RollupAccumulatorTest, RecomputesSharesFromTheRolledUpOperands) {
  auto view = MiniView();
  RollupAccumulator rollup(*view);
  // SH = A.a ÷ A × 100 (2 decimals); the children's own shares are ignored.
  AddChild(rollup, "c1",
           {{"actual_2024", "A", Num("2675")},
            {"actual_2024", "A.a", Num("2441")},
            {"actual_2024", "SH", Num("91.25")},
            {"plan_2025", "A", Num("0")},
            {"plan_2025", "A.a", Num("0")},
            {"estimate_2025", "A", Num("40")},
            {"estimate_2025", "A.a", DashCell()}});
  AddChild(rollup, "c2",
           {{"actual_2024", "A", Num("600")},
            {"actual_2024", "A.a", Num("500")},
            {"actual_2024", "SH", Num("83.33")},
            {"plan_2025", "SH", Num("50")}});
  rollup.Finish();

  const Decimal num = D("2441") + D("500");
  const Decimal den = D("2675") + D("600");
  EXPECT_EQ(Rolled(rollup, "actual_2024", "SH"),
            (num * Decimal::FromInt(100)).DividedBy(den, 2)->ToString());
  EXPECT_EQ(Reporting(rollup, "actual_2024", "SH"), 2);
  EXPECT_EQ(Rolled(rollup, "plan_2025", "SH"), "");       // a denominator of 0: no share
  EXPECT_EQ(Rolled(rollup, "estimate_2025", "SH"), "0");  // a dash numerator is 0
}

TEST(RollupAccumulatorTest, DashOnlyAndBlankStayApart) {
  auto view = MiniView();
  RollupAccumulator rollup(*view);
  AddChild(rollup, "c1",
           {{"actual_2024", "A.b", DashCell()},
            {"actual_2024", "R", DashCell()},
            {"actual_2024", "A.c", DashCell()},
            {"plan_2025", "A", DashCell()}});
  AddChild(rollup, "c2",
           {{"actual_2024", "A.b", DashCell()},
            {"actual_2024", "R", DashCell()},
            {"actual_2024", "A.c", Num("0")},
            {"plan_2025", "A", Num("0")}});
  // A child with only blank cells reports nothing at all.
  v1::CellValue blank;
  blank.set_state(v1::VALUE_STATE_BLANK);
  AddChild(rollup, "c3", {{"actual_2024", "A.b", blank}, {"actual_2024", "A", v1::CellValue()}});
  AddChild(rollup, "c4", {});
  rollup.Finish();

  EXPECT_EQ(Rolled(rollup, "actual_2024", "A.b"), "-");  // dashes only: a dash
  EXPECT_EQ(Reporting(rollup, "actual_2024", "A.b"), 2);
  EXPECT_EQ(Rolled(rollup, "actual_2024", "R"), "-");
  EXPECT_EQ(Rolled(rollup, "actual_2024", "A.c"), "0");  // a dash and a 0: the number 0
  EXPECT_EQ(Rolled(rollup, "plan_2025", "A"), "0");
  EXPECT_EQ(Rolled(rollup, "actual_2024", "A"), "");  // nobody reported: blank
  EXPECT_EQ(rollup.value(rollup.Find("actual_2024", "A")).state(), v1::VALUE_STATE_BLANK);
  EXPECT_EQ(Reporting(rollup, "actual_2024", "A"), 0);
  EXPECT_EQ(rollup.value(rollup.Find("actual_2024", "A.b")).state(), v1::VALUE_STATE_DASH);
  EXPECT_EQ(rollup.children(), 4);
  EXPECT_THAT(rollup.silent_units(), ElementsAre("c3", "c4"));

  RollupAccumulator none(*view);
  none.Finish();
  EXPECT_EQ(none.children(), 0);
  EXPECT_TRUE(none.Values().empty());
  for (int c = 0; c < none.cell_count(); ++c) EXPECT_EQ(none.reporting(c), 0);
}

TEST(RollupAccumulatorTest, RefusesANumberThatIsNotADecimal) {
  auto view = MiniView();
  RollupAccumulator rollup(*view);
  rollup.StartChild("c1");
  EXPECT_FALSE(rollup.Add(rollup.Find("actual_2024", "A"), v1::VALUE_STATE_NUMBER, "12a"));
  EXPECT_FALSE(rollup.Add(rollup.Find("actual_2024", "A"), v1::VALUE_STATE_NUMBER, ""));
  EXPECT_FALSE(rollup.Add(-1, v1::VALUE_STATE_NUMBER, "1e3"));  // even outside the catalog
  EXPECT_TRUE(rollup.Add(-1, v1::VALUE_STATE_NUMBER, "5"));     // ignored, but reported
  rollup.Finish();
  EXPECT_EQ(Rolled(rollup, "actual_2024", "A"), "");
  EXPECT_EQ(Reporting(rollup, "actual_2024", "A"), 0);
  EXPECT_THAT(rollup.silent_units(), IsEmpty());
}

}  // namespace
}  // namespace htx::indicator
