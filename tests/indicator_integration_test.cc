// The indicator service over real gRPC: a server on port 0, a RocksDB store in
// a temp directory, every RPC, the bad input each must refuse without
// writing, and the registry's figures from a stand-in and from a real
// registry.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "common/api/units.h"
#include "common/server/health_client.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/indicator/catalog_data.h"
#include "services/indicator/indicator_harness.h"
#include "services/registry/registry_harness.h"

namespace htx::indicator {
namespace {

using ::htx::testing::Context;
using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;
using ::htx::testing::TestPrincipal;

constexpr char kProvince[] = "provinces/01";
constexpr char kCommune1[] = "provinces/01/communes/00001";
constexpr char kCommune2[] = "provinces/01/communes/00002";
constexpr char kOtherProvince[] = "provinces/04";
constexpr char kTable[] = "phu-luc-1";
constexpr char kAdminSubject[] = "test:ministry_admin@";

type::v1::Date D(int y, int m, int d) {
  type::v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

v1::Column MakeColumn(const std::string& id, v1::ColumnKind kind, int year,
                      const std::string& label) {
  v1::Column column;
  column.set_id(id);
  column.set_kind(kind);
  column.set_year(year);
  column.set_label(label);
  return column;
}

v1::Indicator MakeIndicator(const std::string& code, const std::string& parent,
                            v1::ChildRelation relation, int sort_key, const std::string& label,
                            v1::Aggregation aggregation) {
  v1::Indicator indicator;
  indicator.set_code(code);
  indicator.set_table(kTable);
  indicator.set_parent(parent);
  indicator.set_relation(relation);
  indicator.set_sort_key(sort_key);
  indicator.set_printed_number(code);
  indicator.set_label(label);
  indicator.set_aggregation(aggregation);
  return indicator;
}

v1::ValidationRule MakeRule(const std::string& id, v1::RuleKind kind, v1::Severity severity,
                            const std::string& subject, std::vector<std::string> parts = {}) {
  v1::ValidationRule rule;
  rule.set_name(id);
  rule.set_kind(kind);
  rule.set_severity(severity);
  rule.set_subject(subject);
  for (const std::string& part : parts) rule.add_parts(part);
  return rule;
}

// A small Phụ lục I of plan year `year`: a heading, a registry-derived count
// with an "of which" row, an average weighted by the count and a share.
v1::ImportCatalogRequest TestCatalog(int year = 2026) {
  v1::ImportCatalogRequest request;
  v1::Catalog* catalog = request.mutable_catalog();
  catalog->set_year(year);
  catalog->set_display_name(absl::StrCat("Chỉ tiêu KTTT ", year));
  v1::CatalogTable* table = catalog->add_tables();
  table->set_id(kTable);
  table->set_heading("PHỤ LỤC I");
  table->set_title("TÌNH HÌNH PHÁT TRIỂN KINH TẾ TẬP THỂ");
  v1::Column actual =
      MakeColumn(absl::StrCat("actual_", year - 2), v1::COLUMN_KIND_ACTUAL, year - 2, "Thực hiện");
  *actual.mutable_registry_as_of() = D(year - 2, 12, 31);
  *table->add_columns() = actual;
  *table->add_columns() =
      MakeColumn(absl::StrCat("plan_", year - 1), v1::COLUMN_KIND_PLAN, year - 1, "Kế hoạch");
  *table->add_columns() = MakeColumn(absl::StrCat("estimate_", year - 1), v1::COLUMN_KIND_ESTIMATE,
                                     year - 1, "Ước thực hiện");
  *table->add_columns() =
      MakeColumn(absl::StrCat("plan_", year), v1::COLUMN_KIND_PLAN, year, "Kế hoạch");

  v1::Indicator heading = MakeIndicator("I", "", v1::CHILD_RELATION_UNSPECIFIED, 1, "Hợp tác xã",
                                        v1::AGGREGATION_UNSPECIFIED);
  heading.set_heading(true);
  *request.add_indicators() = heading;
  v1::Indicator total =
      MakeIndicator("I.1", "I", v1::CHILD_RELATION_SECTION, 2, "Tổng số HTX", v1::AGGREGATION_SUM);
  total.set_unit_of_measure("HTX");
  total.mutable_derivation()->set_kind(registry::v1::ORGANIZATION_KIND_HTX);
  total.mutable_derivation()->add_metrics(v1::REGISTRY_METRIC_TOTAL);
  *request.add_indicators() = total;
  *request.add_indicators() = MakeIndicator("I.1.a", "I.1", v1::CHILD_RELATION_OF_WHICH, 3,
                                            "Số HTX đang hoạt động", v1::AGGREGATION_SUM);
  v1::Indicator revenue = MakeIndicator("I.2", "I", v1::CHILD_RELATION_SECTION, 4,
                                        "Doanh thu bình quân", v1::AGGREGATION_WEIGHTED_AVERAGE);
  revenue.set_weight_indicator("I.1");
  revenue.set_max_decimals(1);
  *request.add_indicators() = revenue;
  v1::Indicator share = MakeIndicator("I.3", "I", v1::CHILD_RELATION_SECTION, 5,
                                      "Tỷ lệ HTX hoạt động", v1::AGGREGATION_SHARE);
  share.set_numerator_indicator("I.1.a");
  share.set_denominator_indicator("I.1");
  share.set_max_decimals(2);
  *request.add_indicators() = share;

  *request.add_rules() = MakeRule("active-le-total", v1::RULE_KIND_ACTIVE_LE_TOTAL,
                                  v1::SEVERITY_ERROR, "I.1", {"I.1.a"});
  v1::ValidationRule share_rule =
      MakeRule("share-matches", v1::RULE_KIND_SHARE_MATCHES, v1::SEVERITY_WARNING, "I.3");
  share_rule.set_tolerance("0.1");
  *request.add_rules() = share_rule;
  *request.add_rules() =
      MakeRule("registry-total", v1::RULE_KIND_REGISTRY_COUNT, v1::SEVERITY_WARNING, "I.1");
  return request;
}

std::string V(const std::string& unit, const std::string& column, const std::string& code,
              int year = 2026) {
  return absl::StrCat(unit, "/indicator-values/", year, "/", column, "/", code);
}

v1::CellValue Number(const std::string& number) {
  v1::CellValue cell;
  cell.set_state(v1::VALUE_STATE_NUMBER);
  cell.set_number(number);
  return cell;
}

v1::CellValue Dash() {
  v1::CellValue cell;
  cell.set_state(v1::VALUE_STATE_DASH);
  return cell;
}

v1::ValueWrite W(const std::string& name, const v1::CellValue& value,
                 const std::string& comment = "") {
  v1::ValueWrite write;
  write.set_name(name);
  *write.mutable_value() = value;
  write.set_comment(comment);
  return write;
}

registry::v1::Counts HtxTotal(int64_t total) {
  registry::v1::Counts counts;
  registry::v1::CountRow* row = counts.add_rows();
  row->set_kind(registry::v1::ORGANIZATION_KIND_HTX);
  row->set_total(total);
  row->set_active(total);
  return counts;
}

class IndicatorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Catalog catalog;
    HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), TestCatalog(), &catalog));
  }

  v1::IndicatorService::Stub& stub() { return harness_.stub(); }

  grpc::Status Upsert(const std::string& unit, std::vector<v1::ValueWrite> writes,
                      v1::BatchUpsertValuesResponse* response, const std::string& request_id = "",
                      v1::IndicatorService::Stub* as = nullptr) {
    v1::BatchUpsertValuesRequest request;
    request.set_parent(unit);
    request.set_year(2026);
    request.set_source_system("web");
    request.set_request_id(request_id);
    for (v1::ValueWrite& write : writes) *request.add_writes() = std::move(write);
    return (as != nullptr ? *as : stub()).BatchUpsertValues(Context().get(), request, response);
  }

  void UpsertOk(const std::string& unit, std::vector<v1::ValueWrite> writes) {
    v1::BatchUpsertValuesResponse response;
    grpc::Status status = Upsert(unit, std::move(writes), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  grpc::Status Get(const std::string& name, v1::IndicatorValue* value) {
    v1::GetValueRequest request;
    request.set_name(name);
    return stub().GetValue(Context().get(), request, value);
  }

  grpc::Status Lock(const std::string& unit, bool locked, type::v1::Lock* lock,
                    const std::string& etag = "") {
    type::v1::SetLockRequest request;
    request.set_name(absl::StrCat(unit, "/indicator-locks/2026"));
    request.set_locked(locked);
    if (locked) request.set_holder(absl::StrCat(unit, "/submissions/2026-plan"));
    request.set_etag(etag);
    return harness_.service_stub().SetLock(Context().get(), request, lock);
  }

  std::vector<v1::Finding> Findings(const std::string& unit, bool include_passed = true) {
    v1::ListFindingsRequest request;
    request.set_parent(unit);
    request.set_year(2026);
    request.set_include_passed(include_passed);
    v1::ListFindingsResponse response;
    grpc::Status status = stub().ListFindings(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.findings().begin(), response.findings().end()};
  }

  uint64_t LastSequence() {
    type::v1::ListChangesRequest request;
    type::v1::ListChangesResponse response;
    EXPECT_TRUE(stub().ListChanges(Context().get(), request, &response).ok());
    return response.last_sequence();
  }

  IndicatorHarness harness_;
};

// ---- Catalogs ------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, CatalogIsImportedReadAndListed) {
  v1::GetCatalogRequest get;
  get.set_name("catalogs/2026");
  v1::Catalog catalog;
  HTX_ASSERT_OK(stub().GetCatalog(Context().get(), get, &catalog));
  EXPECT_EQ(catalog.name(), "catalogs/2026");
  EXPECT_EQ(catalog.indicator_count(), 5);
  EXPECT_EQ(catalog.rule_count(), 3);
  EXPECT_EQ(catalog.tables(0).columns_size(), 4);
  EXPECT_FALSE(catalog.etag().empty());
  EXPECT_EQ(catalog.update_time().seconds(), absl::ToUnixSeconds(TestNow()));

  v1::Catalog older;
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), TestCatalog(2025), &older));
  v1::ListCatalogsRequest list;
  list.set_page_size(1);
  v1::ListCatalogsResponse page;
  std::vector<std::string> names;
  do {
    HTX_ASSERT_OK(stub().ListCatalogs(Context().get(), list, &page));
    for (const v1::Catalog& c : page.catalogs()) names.push_back(c.name());
    list.set_page_token(page.next_page_token());
  } while (!page.next_page_token().empty());
  EXPECT_EQ(names, (std::vector<std::string>{"catalogs/2026", "catalogs/2025"}));

  v1::GetIndicatorRequest indicator_request;
  indicator_request.set_name("catalogs/2026/indicators/I.2");
  v1::Indicator indicator;
  HTX_ASSERT_OK(stub().GetIndicator(Context().get(), indicator_request, &indicator));
  EXPECT_EQ(indicator.weight_indicator(), "I.1");
  EXPECT_EQ(indicator.name(), "catalogs/2026/indicators/I.2");
  EXPECT_FALSE(indicator.etag().empty());
  indicator_request.set_name("catalogs/2026/indicators/IX.9");
  EXPECT_THAT(stub().GetIndicator(Context().get(), indicator_request, &indicator),
              StatusIs(absl::StatusCode::kNotFound));
  indicator_request.set_name("catalogs/2026/rows/I.2");
  EXPECT_THAT(stub().GetIndicator(Context().get(), indicator_request, &indicator),
              InvalidArgumentFor("name"));

  v1::ListIndicatorsRequest indicators;
  indicators.set_parent("catalogs/2026");
  indicators.set_table(kTable);
  indicators.set_page_size(2);
  v1::ListIndicatorsResponse listed;
  std::vector<std::string> codes;
  do {
    HTX_ASSERT_OK(stub().ListIndicators(Context().get(), indicators, &listed));
    for (const v1::Indicator& i : listed.indicators()) codes.push_back(i.code());
    indicators.set_page_token(listed.next_page_token());
  } while (!listed.next_page_token().empty());
  EXPECT_EQ(codes, (std::vector<std::string>{"I", "I.1", "I.1.a", "I.2", "I.3"}));
  indicators.set_table("phu-luc-9");
  indicators.clear_page_token();
  EXPECT_THAT(stub().ListIndicators(Context().get(), indicators, &listed),
              InvalidArgumentFor("table"));
  indicators.set_parent("catalogs/2031");
  indicators.clear_table();
  EXPECT_THAT(stub().ListIndicators(Context().get(), indicators, &listed),
              StatusIs(absl::StatusCode::kNotFound));

  v1::ListRulesRequest rules;
  rules.set_parent("catalogs/2026");
  rules.set_subject("I.1");
  v1::ListRulesResponse rules_listed;
  HTX_ASSERT_OK(stub().ListRules(Context().get(), rules, &rules_listed));
  ASSERT_EQ(rules_listed.rules_size(), 2);
  EXPECT_EQ(rules_listed.rules(0).name(), "catalogs/2026/rules/active-le-total");
  EXPECT_EQ(rules_listed.rules(1).name(), "catalogs/2026/rules/registry-total");
  rules.set_subject("nope");
  EXPECT_THAT(stub().ListRules(Context().get(), rules, &rules_listed),
              InvalidArgumentFor("subject"));
}

TEST_F(IndicatorIntegrationTest, CatalogImportRefusesBadInputAndReplaysRequestIds) {
  const uint64_t before = LastSequence();
  v1::Catalog catalog;
  v1::ImportCatalogRequest request = TestCatalog(2027);
  request.clear_catalog();
  EXPECT_THAT(stub().ImportCatalog(Context().get(), request, &catalog),
              InvalidArgumentFor("catalog"));
  request = TestCatalog(2027);
  request.mutable_indicators(3)->set_weight_indicator("I.9");
  EXPECT_THAT(stub().ImportCatalog(Context().get(), request, &catalog),
              InvalidArgumentFor("indicators[3].weight_indicator"));
  request = TestCatalog(2027);
  request.mutable_catalog()->mutable_tables(0)->mutable_columns(1)->set_id("plan_1999");
  EXPECT_THAT(stub().ImportCatalog(Context().get(), request, &catalog),
              StatusIs(absl::StatusCode::kInvalidArgument));

  // validate_only checks and answers, but writes nothing.
  request = TestCatalog(2027);
  request.set_validate_only(true);
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), request, &catalog));
  EXPECT_EQ(catalog.name(), "catalogs/2027");
  v1::GetCatalogRequest get;
  get.set_name("catalogs/2027");
  EXPECT_THAT(stub().GetCatalog(Context().get(), get, &catalog),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(LastSequence(), before);

  request.set_validate_only(false);
  request.set_request_id("import-2027");
  v1::Catalog first, again;
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), request, &first));
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), request, &again));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(LastSequence(), before + 1);
  request.mutable_catalog()->set_display_name("khác");
  EXPECT_THAT(stub().ImportCatalog(Context().get(), request, &again),
              InvalidArgumentFor("request_id"));

  get.set_name("catalog/2027");
  EXPECT_THAT(stub().GetCatalog(Context().get(), get, &catalog), InvalidArgumentFor("name"));
  get.clear_name();
  EXPECT_THAT(stub().GetCatalog(Context().get(), get, &catalog), InvalidArgumentFor("name"));
}

TEST_F(IndicatorIntegrationTest, CatalogInUseCannotDropValuesOrChangeWhileLocked) {
  UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.2"), Number("120"))});
  v1::ImportCatalogRequest without_revenue = TestCatalog();
  without_revenue.mutable_indicators()->erase(without_revenue.mutable_indicators()->begin() + 3);
  v1::Catalog catalog;
  EXPECT_THAT(stub().ImportCatalog(Context().get(), without_revenue, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
  v1::ImportCatalogRequest fewer_columns = TestCatalog();
  fewer_columns.mutable_catalog()->mutable_tables(0)->mutable_columns()->RemoveLast();
  EXPECT_THAT(stub().ImportCatalog(Context().get(), fewer_columns, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));

  // Replacing it with one that keeps every cell is fine, and replaces it.
  v1::ImportCatalogRequest renamed = TestCatalog();
  renamed.mutable_catalog()->set_display_name("Bản sửa đổi");
  HTX_ASSERT_OK(stub().ImportCatalog(Context().get(), renamed, &catalog));
  EXPECT_EQ(catalog.display_name(), "Bản sửa đổi");

  type::v1::Lock lock;
  HTX_ASSERT_OK(Lock(kCommune1, true, &lock));
  EXPECT_THAT(stub().ImportCatalog(Context().get(), renamed, &catalog),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE"));
}

// ---- Values --------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, BatchUpsertStoresCanonicalValuesWithProvenance) {
  v1::BatchUpsertValuesResponse response;
  HTX_ASSERT_OK(Upsert(kProvince,
                       {W(V(kProvince, "plan_2026", "I.1"), Number("0120"), "theo kế hoạch"),
                        W(V(kProvince, "plan_2026", "I.2"), Number("0350.5")),
                        W(V(kProvince, "actual_2024", "I.1.a"), Dash())},
                       &response, "batch-1"));
  ASSERT_EQ(response.values_size(), 3);
  const v1::IndicatorValue& first = response.values(0);
  EXPECT_EQ(first.name(), V(kProvince, "plan_2026", "I.1"));
  EXPECT_EQ(first.unit(), kProvince);
  EXPECT_EQ(first.year(), 2026);
  EXPECT_EQ(first.column(), "plan_2026");
  EXPECT_EQ(first.indicator(), "I.1");
  EXPECT_EQ(first.value().number(), "120");
  EXPECT_EQ(first.revision(), 1);
  EXPECT_EQ(first.provenance().author(), kAdminSubject);
  EXPECT_EQ(first.provenance().source_system(), "web");
  EXPECT_EQ(first.provenance().comment(), "theo kế hoạch");
  EXPECT_EQ(first.provenance().request_id(), "batch-1");
  EXPECT_EQ(first.provenance().write_time().seconds(), absl::ToUnixSeconds(TestNow()));
  EXPECT_EQ(response.values(1).value().number(), "350.5");
  EXPECT_EQ(response.values(2).value().state(), v1::VALUE_STATE_DASH);

  v1::IndicatorValue got;
  HTX_ASSERT_OK(Get(first.name(), &got));
  EXPECT_EQ(got.SerializeAsString(), first.SerializeAsString());
  EXPECT_THAT(Get(V(kProvince, "plan_2025", "I.1"), &got), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Get("provinces/01/indicator-values/2026/plan_2026", &got),
              InvalidArgumentFor("name"));

  // The same request_id replays the first answer and writes nothing.
  const uint64_t sequence = LastSequence();
  v1::BatchUpsertValuesResponse replay;
  HTX_ASSERT_OK(Upsert(kProvince,
                       {W(V(kProvince, "plan_2026", "I.1"), Number("0120"), "theo kế hoạch"),
                        W(V(kProvince, "plan_2026", "I.2"), Number("0350.5")),
                        W(V(kProvince, "actual_2024", "I.1.a"), Dash())},
                       &replay, "batch-1"));
  EXPECT_EQ(replay.SerializeAsString(), response.SerializeAsString());
  EXPECT_EQ(LastSequence(), sequence);
  EXPECT_THAT(
      Upsert(kProvince, {W(V(kProvince, "plan_2026", "I.1"), Number("7"))}, &replay, "batch-1"),
      InvalidArgumentFor("request_id"));
}

TEST_F(IndicatorIntegrationTest, BadBatchesAreRefusedWholeNamingTheRow) {
  const uint64_t before = LastSequence();
  const std::string good = V(kProvince, "plan_2026", "I.1");
  v1::BatchUpsertValuesResponse response;
  auto refused = [&](v1::ValueWrite bad) {
    return Upsert(kProvince, {W(good, Number("5")), std::move(bad)}, &response);
  };
  EXPECT_THAT(refused(W(V(kProvince, "plan_2030", "I.1"), Number("1"))),
              InvalidArgumentFor("writes[1].name"));  // a column the table lacks
  EXPECT_THAT(refused(W(V(kProvince, "plan_2026", "I"), Number("1"))),
              InvalidArgumentFor("writes[1].name"));  // a heading
  EXPECT_THAT(refused(W(V(kProvince, "plan_2026", "I.9"), Number("1"))),
              InvalidArgumentFor("writes[1].name"));  // no such indicator
  EXPECT_THAT(refused(W(V(kCommune1, "plan_2026", "I.1"), Number("1"))),
              InvalidArgumentFor("writes[1].name"));  // not under parent
  EXPECT_THAT(refused(W(good, Number("2"))), InvalidArgumentFor("writes[1].name"));  // twice
  EXPECT_THAT(refused(W(V(kProvince, "plan_2026", "I.2"), Number("1.25"))),
              InvalidArgumentFor("writes[1].value.number"));  // max_decimals 1
  EXPECT_THAT(refused(W(V(kProvince, "plan_2026", "I.1.a"), Number("-3"))),
              InvalidArgumentFor("writes[1].value.number"));
  EXPECT_THAT(refused(W(V(kProvince, "plan_2026", "I.1.a"), Number("1,000"))),
              InvalidArgumentFor("writes[1].value.number"));
  EXPECT_THAT(refused(W(V(kProvince, "plan_2026", "I.1.a"), v1::CellValue())),
              InvalidArgumentFor("writes[1].value.state"));
  v1::ValueWrite stale = W(V(kProvince, "plan_2026", "I.1.a"), Number("1"));
  stale.set_etag("0123456789abcdef");
  EXPECT_THAT(refused(stale), StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));

  v1::BatchUpsertValuesRequest request;
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              InvalidArgumentFor("parent"));
  request.set_parent("provinces/1");
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              InvalidArgumentFor("parent"));
  request.set_parent(kProvince);
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              InvalidArgumentFor("year"));
  request.set_year(2026);
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              InvalidArgumentFor("writes"));
  *request.add_writes() = W(good, Number("1"));
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              InvalidArgumentFor("source_system"));
  request.set_source_system("web");
  request.set_year(2030);
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              StatusIs(absl::StatusCode::kNotFound));
  request.set_year(2026);
  for (int i = 0; i < 1000; ++i) *request.add_writes() = W(good, Number("1"));
  EXPECT_THAT(stub().BatchUpsertValues(Context().get(), request, &response),
              InvalidArgumentFor("writes"));

  v1::IndicatorValue value;
  EXPECT_THAT(Get(good, &value), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(LastSequence(), before);
}

TEST_F(IndicatorIntegrationTest, RevisionsFollowChangesAndHistoryIsKept) {
  const std::string name = V(kProvince, "estimate_2025", "I.1");
  v1::BatchUpsertValuesResponse response;
  HTX_ASSERT_OK(Upsert(kProvince, {W(name, Number("100"))}, &response));
  const v1::IndicatorValue first = response.values(0);
  EXPECT_EQ(first.revision(), 1);

  // Neither value nor comment changes: no revision, no change in the feed.
  const uint64_t sequence = LastSequence();
  HTX_ASSERT_OK(Upsert(kProvince, {W(name, Number("0100"))}, &response));
  EXPECT_EQ(response.values(0).revision(), 1);
  EXPECT_EQ(response.values(0).etag(), first.etag());
  EXPECT_EQ(LastSequence(), sequence);

  HTX_ASSERT_OK(Upsert(kProvince, {W(name, Number("100"), "đã rà soát")}, &response));
  EXPECT_EQ(response.values(0).revision(), 2);
  v1::ValueWrite conditional = W(name, Number("104"));
  conditional.set_etag(first.etag());  // stale now
  EXPECT_THAT(Upsert(kProvince, {conditional}, &response),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  v1::IndicatorValue current;
  HTX_ASSERT_OK(Get(name, &current));
  conditional.set_etag(current.etag());
  HTX_ASSERT_OK(Upsert(kProvince, {conditional}, &response));
  EXPECT_EQ(response.values(0).revision(), 3);
  v1::ValueWrite never_written = W(V(kProvince, "plan_2025", "I.1"), Number("1"));
  never_written.set_etag(current.etag());
  EXPECT_THAT(Upsert(kProvince, {never_written}, &response),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));

  v1::ListValueHistoryRequest history;
  history.set_name(name);
  history.set_page_size(2);
  v1::ListValueHistoryResponse page;
  std::vector<v1::ValueRevision> revisions;
  do {
    HTX_ASSERT_OK(stub().ListValueHistory(Context().get(), history, &page));
    revisions.insert(revisions.end(), page.revisions().begin(), page.revisions().end());
    history.set_page_token(page.next_page_token());
  } while (!page.next_page_token().empty());
  ASSERT_EQ(revisions.size(), 3u);
  EXPECT_EQ(revisions[0].revision(), 3);
  EXPECT_EQ(revisions[0].name(), name + "/revisions/3");
  EXPECT_EQ(revisions[0].value().number(), "104");
  EXPECT_EQ(revisions[1].provenance().comment(), "đã rà soát");
  EXPECT_EQ(revisions[2].value().number(), "100");

  history.clear_page_token();
  history.set_name(V(kProvince, "plan_2025", "I.1"));
  EXPECT_THAT(stub().ListValueHistory(Context().get(), history, &page),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(IndicatorIntegrationTest, ValuesAreListedInCatalogOrderWithFiltersAndPages) {
  UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.3"), Number("80")),
                       W(V(kProvince, "plan_2026", "I.1"), Number("10")),
                       W(V(kProvince, "actual_2024", "I.1"), Number("8")),
                       W(V(kProvince, "plan_2026", "I.1.a"), Number("8"))});
  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("3"))});
  v1::ListValuesRequest request;
  request.set_parent(kProvince);
  request.set_year(2026);
  request.set_page_size(3);
  v1::ListValuesResponse response;
  std::vector<std::string> names;
  do {
    HTX_ASSERT_OK(stub().ListValues(Context().get(), request, &response));
    for (const v1::IndicatorValue& v : response.values()) names.push_back(v.name());
    request.set_page_token(response.next_page_token());
  } while (!response.next_page_token().empty());
  EXPECT_EQ(names, (std::vector<std::string>{
                       V(kProvince, "actual_2024", "I.1"), V(kProvince, "plan_2026", "I.1"),
                       V(kProvince, "plan_2026", "I.1.a"), V(kProvince, "plan_2026", "I.3")}));

  request.clear_page_token();
  request.set_column("plan_2026");
  request.add_indicators("I.1");
  request.add_indicators("I.3");
  HTX_ASSERT_OK(stub().ListValues(Context().get(), request, &response));
  ASSERT_EQ(response.values_size(), 2);
  EXPECT_EQ(response.values(1).indicator(), "I.3");

  request.set_page_size(1);
  HTX_ASSERT_OK(stub().ListValues(Context().get(), request, &response));
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_column("actual_2024");
  request.set_page_token(response.next_page_token());
  EXPECT_THAT(stub().ListValues(Context().get(), request, &response),
              InvalidArgumentFor("page_token"));
  request.clear_page_token();
  request.set_column("plan_2031");
  EXPECT_THAT(stub().ListValues(Context().get(), request, &response), InvalidArgumentFor("column"));
  request.set_column("plan_2026");
  request.add_indicators("II.9");
  EXPECT_THAT(stub().ListValues(Context().get(), request, &response),
              InvalidArgumentFor("indicators[2]"));
  request.clear_indicators();
  request.set_table("phu-luc-9");
  EXPECT_THAT(stub().ListValues(Context().get(), request, &response), InvalidArgumentFor("table"));
  request.clear_table();
  request.set_parent("provinces/01/wards/1");
  EXPECT_THAT(stub().ListValues(Context().get(), request, &response), InvalidArgumentFor("parent"));
}

// ---- Locks ---------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, LockedUnitYearRefusesWritesUntilReopened) {
  type::v1::GetLockRequest get;
  get.set_name(absl::StrCat(kCommune1, "/indicator-locks/2026"));
  type::v1::Lock lock;
  HTX_ASSERT_OK(stub().GetLock(Context().get(), get, &lock));
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.name(), get.name());
  const std::string unlocked_etag = lock.etag();

  // The ministry may read locks but only a service sets them.
  type::v1::SetLockRequest set;
  set.set_name(get.name());
  set.set_locked(true);
  set.set_holder("provinces/01/communes/00001/submissions/2026-plan");
  EXPECT_THAT(stub().SetLock(Context().get(), set, &lock),
              StatusIs(absl::StatusCode::kPermissionDenied));
  set.clear_holder();
  EXPECT_THAT(harness_.service_stub().SetLock(Context().get(), set, &lock),
              InvalidArgumentFor("holder"));
  set.set_name("provinces/01/indicator-locks/26");
  EXPECT_THAT(harness_.service_stub().SetLock(Context().get(), set, &lock),
              InvalidArgumentFor("name"));

  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.3"), Number("90")),
                       W(V(kCommune1, "plan_2026", "I.1"), Number("10")),
                       W(V(kCommune1, "plan_2026", "I.1.a"), Number("5"))});
  HTX_ASSERT_OK(Lock(kCommune1, true, &lock, unlocked_etag));
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(lock.holder(), "provinces/01/communes/00001/submissions/2026-plan");
  type::v1::Lock same;
  HTX_ASSERT_OK(Lock(kCommune1, true, &same));  // again: a no-op
  EXPECT_EQ(same.SerializeAsString(), lock.SerializeAsString());
  EXPECT_THAT(Lock(kCommune1, false, &same, unlocked_etag),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));

  v1::BatchUpsertValuesResponse response;
  EXPECT_THAT(Upsert(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("11"))}, &response),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "LOCKED"));
  const std::string finding =
      absl::StrCat(kCommune1, "/indicator-findings/2026/share-matches/plan_2026");
  v1::ExplainFindingRequest explain;
  explain.set_name(finding);
  explain.set_text("Số liệu đã được xác minh");
  v1::Finding explained;
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "LOCKED"));
  // Other unit-years are not affected.
  UpsertOk(kCommune2, {W(V(kCommune2, "plan_2026", "I.1"), Number("11"))});

  v1::GetTableRequest table;
  table.set_unit(kCommune1);
  table.set_year(2026);
  table.set_table(kTable);
  v1::IndicatorTable got;
  HTX_ASSERT_OK(stub().GetTable(Context().get(), table, &got));
  EXPECT_TRUE(got.locked());

  HTX_ASSERT_OK(Lock(kCommune1, false, &lock, lock.etag()));
  EXPECT_FALSE(lock.locked());
  HTX_ASSERT_OK(stub().GetLock(Context().get(), get, &lock));
  EXPECT_FALSE(lock.locked());
  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("11"))});
  HTX_ASSERT_OK(stub().ExplainFinding(Context().get(), explain, &explained));
}

// ---- Bulk ingest ------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, IngestKeepsGoodRowsAndReportsBadOnes) {
  type::v1::Lock lock;
  HTX_ASSERT_OK(Lock(kCommune2, true, &lock));
  auto context = Context(30);
  auto stream = stub().IngestValues(context.get());
  v1::IngestValuesRequest batch;
  batch.set_source_system("lmhtx-sync");
  auto add = [&](const std::string& name, const v1::CellValue& value, const std::string& id) {
    v1::ValueWrite* row = batch.add_rows();
    *row = W(name, value);
    row->set_request_id(id);
    return row;
  };
  add(V(kProvince, "plan_2026", "I.1"), Number("40"), "row-0");
  add(V(kCommune1, "plan_2026", "I.1"), Number("12"), "row-1");
  add(V(kCommune1, "plan_2026", "I"), Number("12"), "row-2");         // a heading
  add(V(kCommune1, "plan_2026", "I.1.a"), Number("3"), "");           // no request_id
  add(V(kCommune1, "plan_2027", "I.1", 2027), Number("3"), "row-4");  // no such catalog
  add(V(kCommune2, "plan_2026", "I.1"), Number("3"), "row-5");        // locked
  add(V(kCommune1, "plan_2026", "I.2"), Number("1.55"), "row-6");     // too many decimals
  add(V(kCommune1, "actual_2024", "I.1"), Number("7"), "row-7")->set_etag("ffff");  // stale
  ASSERT_TRUE(stream->Write(batch));
  v1::IngestValuesResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 8);
  EXPECT_EQ(response.applied(), 2);
  EXPECT_EQ(response.rejected(), 6);
  EXPECT_EQ(response.results(0).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  EXPECT_EQ(response.results(0).resource(), V(kProvince, "plan_2026", "I.1"));
  EXPECT_EQ(response.results(2).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(response.results(2).message().find("rows[2].name"), std::string::npos);
  EXPECT_NE(response.results(3).message().find("rows[3].request_id"), std::string::npos);
  EXPECT_EQ(response.results(4).code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.results(5).code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(response.results(6).message().find("rows[6].value.number"), std::string::npos);
  EXPECT_EQ(response.results(7).code(), grpc::StatusCode::ABORTED);

  // Re-sending applies nothing twice.
  const uint64_t sequence = LastSequence();
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.applied(), 0);
  EXPECT_EQ(response.already_applied(), 2);
  EXPECT_EQ(response.results(1).outcome(), type::v1::RowResult::OUTCOME_ALREADY_APPLIED);
  EXPECT_EQ(response.results(1).index(), 1);
  EXPECT_EQ(response.results(1).resource(), V(kCommune1, "plan_2026", "I.1"));
  EXPECT_EQ(LastSequence(), sequence);
  ASSERT_TRUE(stream->WritesDone());
  HTX_ASSERT_OK(stream->Finish());

  v1::IndicatorValue value;
  HTX_ASSERT_OK(Get(V(kCommune1, "plan_2026", "I.1"), &value));
  EXPECT_EQ(value.value().number(), "12");
  EXPECT_EQ(value.provenance().source_system(), "lmhtx-sync");
  EXPECT_EQ(value.provenance().request_id(), "row-1");
  EXPECT_THAT(Get(V(kCommune2, "plan_2026", "I.1"), &value), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(IndicatorIntegrationTest, IngestStreamEndsOnOversizedOrOutOfScopeMessages) {
  {
    auto context = Context(30);
    auto stream = stub().IngestValues(context.get());
    v1::IngestValuesRequest batch;
    batch.set_source_system("x");
    for (int i = 0; i < 1001; ++i) batch.add_rows()->set_request_id(absl::StrCat("r", i));
    ASSERT_TRUE(stream->Write(batch));
    v1::IngestValuesResponse response;
    EXPECT_FALSE(stream->Read(&response));
    EXPECT_THAT(stream->Finish(), InvalidArgumentFor("rows"));
  }
  {
    auto editor = harness_.StubAs(TestPrincipal(auth::v1::ROLE_PROVINCE_EDITOR, kOtherProvince));
    auto context = Context(30);
    auto stream = editor->IngestValues(context.get());
    v1::IngestValuesRequest batch;
    batch.set_source_system("x");
    *batch.add_rows() = W(V(kProvince, "plan_2026", "I.1"), Number("1"));
    batch.mutable_rows(0)->set_request_id("r");
    ASSERT_TRUE(stream->Write(batch));
    v1::IngestValuesResponse response;
    EXPECT_FALSE(stream->Read(&response));
    EXPECT_THAT(stream->Finish(),
                StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  }
  {
    auto unsigned_stub = harness_.UnsignedStub();
    auto context = Context(30);
    auto stream = unsigned_stub->IngestValues(context.get());
    v1::IngestValuesResponse response;
    EXPECT_FALSE(stream->Read(&response));
    EXPECT_THAT(stream->Finish(), StatusIs(absl::StatusCode::kUnauthenticated));
  }
}

// ---- Tables ---------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, TableShowsValuesRatiosRegistryFiguresAndFindings) {
  harness_.registry().SetCounts(kProvince, HtxTotal(12));
  UpsertOk(kProvince, {W(V(kProvince, "actual_2024", "I.1"), Number("10")),
                       W(V(kProvince, "plan_2025", "I.1"), Number("20")),
                       W(V(kProvince, "estimate_2025", "I.1"), Number("15")),
                       W(V(kProvince, "plan_2026", "I.1"), Number("30")),
                       W(V(kProvince, "plan_2026", "I.1.a"), Number("40"))});
  v1::GetTableRequest request;
  request.set_unit(kProvince);
  request.set_year(2026);
  request.set_table(kTable);
  v1::IndicatorTable table;
  HTX_ASSERT_OK(stub().GetTable(Context().get(), request, &table));
  EXPECT_EQ(table.unit(), kProvince);
  EXPECT_EQ(table.source(), v1::TABLE_SOURCE_OWN);
  EXPECT_FALSE(table.locked());
  EXPECT_FALSE(table.registry_unavailable());
  EXPECT_EQ(table.table().heading(), "PHỤ LỤC I");
  ASSERT_EQ(table.rows_size(), 5);
  EXPECT_TRUE(table.rows(0).heading());
  const v1::TableRow& total = table.rows(1);
  EXPECT_EQ(total.indicator(), "I.1");
  EXPECT_EQ(total.level(), 1);
  ASSERT_EQ(total.cells_size(), 4);
  EXPECT_EQ(total.cells(0).value().number(), "10");
  EXPECT_EQ(total.cells(0).registry_value().number(), "12");
  EXPECT_FALSE(total.cells(1).has_registry_value());
  bool percent_of_plan = false;
  for (const v1::Ratio& ratio : total.ratios()) {
    if (ratio.kind() == v1::RATIO_KIND_PERCENT_OF_PLAN && ratio.column() == "estimate_2025") {
      percent_of_plan = true;
      EXPECT_EQ(ratio.base_column(), "plan_2025");
      EXPECT_EQ(ratio.value().number(), "75");
    }
  }
  EXPECT_TRUE(percent_of_plan);
  // I.1.a 40 > I.1 30 in plan_2026 (an error); the registry's 12 ≠ 10 (a warning).
  EXPECT_EQ(table.findings().errors(), 1);
  EXPECT_EQ(table.findings().warnings(), 1);
  EXPECT_EQ(table.findings().unexplained_warnings(), 1);
  EXPECT_EQ(table.findings().blocking(), 2);

  // A registry that does not answer leaves the figures unset, never fails the call.
  harness_.registry().SetAvailable(false);
  HTX_ASSERT_OK(stub().GetTable(Context().get(), request, &table));
  EXPECT_TRUE(table.registry_unavailable());
  EXPECT_FALSE(table.rows(1).cells(0).has_registry_value());
  EXPECT_EQ(table.findings().warnings(), 0);

  request.set_table("phu-luc-9");
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table), InvalidArgumentFor("table"));
  request.clear_table();
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table), InvalidArgumentFor("table"));
  request.set_table(kTable);
  request.set_year(0);
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table), InvalidArgumentFor("year"));
  request.set_year(2031);
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table),
              StatusIs(absl::StatusCode::kNotFound));
  request.set_year(2026);
  request.set_unit("");
  request.set_source(v1::TABLE_SOURCE_OWN);
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table), InvalidArgumentFor("source"));
  request.set_unit(kCommune1);
  request.set_source(v1::TABLE_SOURCE_ROLLUP);
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table), InvalidArgumentFor("source"));
  request.set_unit(kProvince);
  request.add_rollup_units("provinces/04/communes/01000");
  EXPECT_THAT(stub().GetTable(Context().get(), request, &table),
              InvalidArgumentFor("rollup_units[0]"));
}

// ---- Roll-ups -------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, ProvinceRollsUpItsCommunes) {
  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("10")),
                       W(V(kCommune1, "plan_2026", "I.1.a"), Number("8")),
                       W(V(kCommune1, "plan_2026", "I.2"), Number("100"))});
  UpsertOk(kCommune2, {W(V(kCommune2, "plan_2026", "I.1"), Number("30")),
                       W(V(kCommune2, "plan_2026", "I.1.a"), Dash()),
                       W(V(kCommune2, "plan_2026", "I.2"), Number("200"))});
  // The province's own figures and other provinces' communes are no children.
  UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.1"), Number("999"))});
  UpsertOk("provinces/04/communes/01000",
           {W(V("provinces/04/communes/01000", "plan_2026", "I.1"), Number("5"))});

  v1::GetRollupRequest request;
  request.set_unit(kProvince);
  request.set_year(2026);
  request.add_columns("plan_2026");
  v1::Rollup rollup;
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.child_units(), 2);
  EXPECT_TRUE(rollup.silent_units().empty());
  std::map<std::string, v1::RollupValue> by_code;
  for (const v1::RollupValue& value : rollup.values()) by_code[value.indicator()] = value;
  ASSERT_EQ(by_code.size(), 4u);  // not the heading
  EXPECT_EQ(by_code["I.1"].value().number(), "40");
  EXPECT_EQ(by_code["I.1"].reporting_units(), 2);
  EXPECT_EQ(by_code["I.1.a"].value().number(), "8");  // a dash counts as 0
  EXPECT_EQ(by_code["I.1.a"].reporting_units(), 2);
  EXPECT_EQ(by_code["I.2"].value().number(), "175");  // (100×10 + 200×30) ÷ 40
  EXPECT_EQ(by_code["I.3"].value().number(), "20");   // 8 ÷ 40 × 100, recomputed
  EXPECT_EQ(rollup.values(0).indicator(), "I.1");     // catalog order

  // Restricted to named children, one of which reported nothing.
  request.add_units(kCommune1);
  request.add_units("provinces/01/communes/00003");
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.child_units(), 2);
  EXPECT_EQ(std::vector<std::string>(rollup.silent_units().begin(), rollup.silent_units().end()),
            std::vector<std::string>{"provinces/01/communes/00003"});
  EXPECT_EQ(rollup.values(0).value().number(), "10");

  // The same through GetTable, with the count of reporting children per cell.
  v1::GetTableRequest table_request;
  table_request.set_unit(kProvince);
  table_request.set_year(2026);
  table_request.set_table(kTable);
  table_request.set_source(v1::TABLE_SOURCE_ROLLUP);
  v1::IndicatorTable table;
  HTX_ASSERT_OK(stub().GetTable(Context().get(), table_request, &table));
  EXPECT_EQ(table.source(), v1::TABLE_SOURCE_ROLLUP);
  EXPECT_EQ(table.rows(1).cells(3).value().number(), "40");
  EXPECT_EQ(table.rows(1).cells(3).reporting_units(), 2);
  EXPECT_EQ(table.rows(1).cells(0).value().state(), v1::VALUE_STATE_BLANK);

  // The nation rolls up the provinces' own values.
  v1::GetRollupRequest nation;
  nation.set_year(2026);
  nation.add_indicators("I.1");
  nation.add_columns("plan_2026");
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), nation, &rollup));
  EXPECT_EQ(rollup.child_units(), 1);
  ASSERT_EQ(rollup.values_size(), 1);
  EXPECT_EQ(rollup.values(0).value().number(), "999");

  request.clear_units();
  request.add_units("provinces/04/communes/01000");
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("units[0]"));
  request.clear_units();
  request.set_unit(kCommune1);
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("unit"));
  request.set_unit(kProvince);
  request.add_columns("plan_2031");
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup),
              InvalidArgumentFor("columns[1]"));
}

// One commune's plan_2026 figures as ingested: "" = not written, "-" = a dash.
struct CommuneFigures {
  std::string unit;
  std::string total;    // I.1 (sum; the count that weighs I.2)
  std::string active;   // I.1.a (sum)
  std::string revenue;  // I.2 (average weighted by I.1, 1 decimal)
};

// Communes of three provinces: dashes, a zero count, a missing count, an
// average that does not round the same way per province and nationally.
std::vector<CommuneFigures> NationCommunes() {
  return {{"provinces/01/communes/00001", "3", "2", "100.4"},
          {"provinces/01/communes/00002", "30", "-", "200"},
          {"provinces/04/communes/01000", "5", "5", "333.3"},
          {"provinces/04/communes/01001", "0", "", "50"},
          {"provinces/04/communes/01002", "", "2", "70"},
          {"provinces/79/communes/26734", "7", "1", "12.3"},
          {"provinces/79/communes/26735", "-", "-", "-"}};
}

v1::CellValue Cell(const std::string& figure) { return figure == "-" ? Dash() : Number(figure); }

// What a roll-up of `communes` must give for plan_2026, computed here from
// the figures as written: the independent reference.
struct Expected {
  std::map<std::string, v1::CellValue> value;  // by indicator code
  std::map<std::string, int> reporting;
};

Expected ComputeNation(const std::vector<CommuneFigures>& communes) {
  Expected out;
  // A number, a dash as 0, or nothing for a blank.
  auto numeric = [](const std::string& figure) -> absl::optional<Decimal> {
    if (figure.empty()) return absl::nullopt;
    if (figure == "-") return Decimal();
    return *Decimal::Parse(figure, "test");
  };
  auto sum = [&](std::string CommuneFigures::*field, const std::string& code) {
    Decimal total;
    int reported = 0;
    bool number = false;
    for (const CommuneFigures& c : communes) {
      if (absl::optional<Decimal> v = numeric(c.*field)) {
        total = total + *v;
        ++reported;
        number = number || c.*field != "-";
      }
    }
    out.reporting[code] = reported;
    v1::CellValue cell;
    cell.set_state(number         ? v1::VALUE_STATE_NUMBER
                   : reported > 0 ? v1::VALUE_STATE_DASH
                                  : v1::VALUE_STATE_BLANK);
    if (number) cell.set_number(total.ToString());
    out.value[code] = cell;
    return number ? absl::optional<Decimal>(total) : absl::nullopt;
  };
  absl::optional<Decimal> total = sum(&CommuneFigures::total, "I.1");
  absl::optional<Decimal> active = sum(&CommuneFigures::active, "I.1.a");
  // Σ(average × count) ÷ Σ count over the communes with a positive count; a
  // dash when every commune that reported printed a dash.
  Decimal weighted, weights;
  int reported = 0, dashes = 0;
  for (const CommuneFigures& c : communes) {
    absl::optional<Decimal> v = numeric(c.revenue);
    if (!v) continue;
    ++reported;
    if (c.revenue == "-") ++dashes;
    absl::optional<Decimal> w = numeric(c.total);
    if (w && Decimal() < *w) {
      weighted = weighted + *v * *w;
      weights = weights + *w;
    }
  }
  out.reporting["I.2"] = reported;
  absl::optional<Decimal> average;
  if (Decimal() < weights) average = weighted.DividedBy(weights, 1);
  out.value["I.2"] = reported > 0 && dashes == reported ? Dash()
                     : average                          ? Number(average->ToString())
                                                        : v1::CellValue();
  // The share recomputed from the rolled-up operands (no commune wrote one).
  out.reporting["I.3"] = 0;
  absl::optional<Decimal> share;
  if (active && total) share = (*active * Decimal::FromInt(100)).DividedBy(*total, 2);
  out.value["I.3"] = share ? Number(share->ToString()) : v1::CellValue();
  return out;
}

// Communes whose only stored value is a cleared (BLANK) cell: taken into
// account, silent.
const std::vector<std::string> kSilentCommunes = {"provinces/01/communes/00009",
                                                  "provinces/79/communes/26799"};

// The communes' figures, the silent communes, and figures of two provinces
// themselves and of an agency, which a roll-up from the communes must not
// read.
class IndicatorRollupTest : public IndicatorIntegrationTest {
 protected:
  void WriteNation() {
    v1::CellValue blank;
    blank.set_state(v1::VALUE_STATE_BLANK);
    for (const std::string& silent : kSilentCommunes) {
      UpsertOk(silent, {W(V(silent, "plan_2026", "I.1"), blank)});
    }
    for (const CommuneFigures& c : NationCommunes()) {
      std::vector<v1::ValueWrite> writes;
      if (!c.total.empty()) writes.push_back(W(V(c.unit, "plan_2026", "I.1"), Cell(c.total)));
      if (!c.active.empty()) writes.push_back(W(V(c.unit, "plan_2026", "I.1.a"), Cell(c.active)));
      if (!c.revenue.empty()) writes.push_back(W(V(c.unit, "plan_2026", "I.2"), Cell(c.revenue)));
      UpsertOk(c.unit, writes);
    }
    UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.1"), Number("999")),
                         W(V(kProvince, "plan_2026", "I.2"), Number("1"))});
    UpsertOk(kOtherProvince, {W(V(kOtherProvince, "plan_2026", "I.1"), Number("4"))});
    const std::string agency = "provinces/01/agencies/so-tai-chinh";
    UpsertOk(agency, {W(V(agency, "plan_2026", "I.1"), Number("123"))});
  }
};

// The figures compared as the contract shows them.
void ExpectRolledUp(const v1::Rollup& rollup, const Expected& expected) {
  ASSERT_EQ(rollup.values_size(), 4);
  for (const v1::RollupValue& value : rollup.values()) {
    SCOPED_TRACE(value.indicator());
    EXPECT_EQ(value.column(), "plan_2026");
    const v1::CellValue& want = expected.value.at(value.indicator());
    EXPECT_EQ(value.value().state(),
              want.state() == v1::VALUE_STATE_UNSPECIFIED ? v1::VALUE_STATE_BLANK : want.state());
    EXPECT_EQ(value.value().number(), want.number());
    EXPECT_EQ(value.reporting_units(), expected.reporting.at(value.indicator()));
  }
}

TEST_F(IndicatorRollupTest, NationRollsUpFromEveryCommune) {
  WriteNation();
  const std::vector<CommuneFigures> communes = NationCommunes();
  const Expected expected = ComputeNation(communes);

  v1::GetRollupRequest request;
  request.set_year(2026);
  request.add_columns("plan_2026");
  request.set_basis(v1::ROLLUP_BASIS_COMMUNES);
  v1::Rollup rollup;
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.basis(), v1::ROLLUP_BASIS_COMMUNES);
  EXPECT_EQ(rollup.unit(), "");
  EXPECT_EQ(rollup.child_units(), static_cast<int>(communes.size() + kSilentCommunes.size()));
  EXPECT_EQ(std::vector<std::string>(rollup.silent_units().begin(), rollup.silent_units().end()),
            kSilentCommunes);
  ExpectRolledUp(rollup, expected);
  EXPECT_EQ(rollup.values(2).value().state(), v1::VALUE_STATE_NUMBER);  // the average
  EXPECT_EQ(rollup.values(3).value().state(), v1::VALUE_STATE_NUMBER);  // the share
  // The national average is weighted by every commune's own count, which is
  // not what weighting the provinces' rounded averages gives.
  Decimal through_provinces_weighted, through_provinces_weights;
  for (const char* province : {"provinces/01", "provinces/04", "provinces/79"}) {
    v1::GetRollupRequest one = request;
    one.set_unit(province);
    v1::Rollup part;
    HTX_ASSERT_OK(stub().GetRollup(Context().get(), one, &part));
    const v1::CellValue& average = part.values(2).value();
    const v1::CellValue& count = part.values(0).value();
    if (average.state() != v1::VALUE_STATE_NUMBER || count.state() != v1::VALUE_STATE_NUMBER) {
      continue;
    }
    const Decimal w = *Decimal::Parse(count.number(), "count");
    through_provinces_weighted =
        through_provinces_weighted + *Decimal::Parse(average.number(), "a") * w;
    through_provinces_weights = through_provinces_weights + w;
  }
  EXPECT_NE(rollup.values(2).value().number(),
            through_provinces_weighted.DividedBy(through_provinces_weights, 1)->ToString());

  // The default basis still rolls the nation up from the provinces' own values.
  request.clear_basis();
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.basis(), v1::ROLLUP_BASIS_CHILDREN);
  EXPECT_EQ(rollup.child_units(), 2);
  EXPECT_EQ(rollup.values(0).value().number(), "1003");  // 999 + 4
}

TEST_F(IndicatorRollupTest, NationFromTheCommunesOfNamedProvinces) {
  WriteNation();
  std::vector<CommuneFigures> named;
  for (const CommuneFigures& c : NationCommunes()) {
    if (absl::StartsWith(c.unit, "provinces/04/") || absl::StartsWith(c.unit, "provinces/79/")) {
      named.push_back(c);
    }
  }
  const Expected expected = ComputeNation(named);

  v1::GetRollupRequest request;
  request.set_year(2026);
  request.add_columns("plan_2026");
  request.set_basis(v1::ROLLUP_BASIS_COMMUNES);
  request.add_units("provinces/79");
  request.add_units("provinces/04");
  request.add_units("provinces/02");  // no commune stored anything
  v1::Rollup rollup;
  HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &rollup));
  EXPECT_EQ(rollup.child_units(), static_cast<int>(named.size()) + 1);
  EXPECT_EQ(std::vector<std::string>(rollup.silent_units().begin(), rollup.silent_units().end()),
            std::vector<std::string>{kSilentCommunes[1]});
  ExpectRolledUp(rollup, expected);
  // Not the whole nation's figures.
  EXPECT_NE(rollup.values(0).value().number(),
            ComputeNation(NationCommunes()).value.at("I.1").number());

  // Units are the nation's children: provinces, not communes.
  request.clear_units();
  request.add_units("provinces/04/communes/01000");
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("units[0]"));
}

TEST_F(IndicatorRollupTest, RollupBasisIsChecked) {
  v1::GetRollupRequest request;
  request.set_year(2026);
  request.set_basis(static_cast<v1::RollupBasis>(7));
  v1::Rollup rollup;
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("basis"));
  request.set_unit(kProvince);
  request.set_basis(static_cast<v1::RollupBasis>(-1));
  EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup), InvalidArgumentFor("basis"));
}

TEST_F(IndicatorRollupTest, ProvinceFromCommunesIsItsChildren) {
  WriteNation();
  for (bool restricted : {false, true}) {
    SCOPED_TRACE(restricted ? "restricted" : "all");
    v1::GetRollupRequest request;
    request.set_unit(kProvince);
    request.set_year(2026);
    if (restricted) {
      request.add_units(kCommune2);
      request.add_units("provinces/01/communes/00003");  // silent
    }
    v1::Rollup children, communes;
    HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &children));
    request.set_basis(v1::ROLLUP_BASIS_COMMUNES);
    HTX_ASSERT_OK(stub().GetRollup(Context().get(), request, &communes));
    EXPECT_EQ(children.basis(), v1::ROLLUP_BASIS_CHILDREN);
    EXPECT_EQ(communes.basis(), v1::ROLLUP_BASIS_COMMUNES);
    EXPECT_EQ(communes.child_units(), restricted ? 2 : 3);
    EXPECT_EQ(communes.child_units(), children.child_units());
    EXPECT_EQ(communes.silent_units_size(), 1);
    communes.set_basis(children.basis());
    EXPECT_EQ(communes.SerializeAsString(), children.SerializeAsString());
  }
}

TEST_F(IndicatorRollupTest, CorruptStoredValueIsDataLoss) {
  WriteNation();
  const std::string key =
      absl::StrCat(api::UnitYearPrefix("provinces/04/communes/01000", 2026), "plan_2026|I.1");
  v1::IndicatorValue stored;
  stored.set_name(V("provinces/04/communes/01000", "plan_2026", "I.1"));
  *stored.mutable_value() = Number("12x");  // parses, but is no figure
  const std::string truncated = stored.SerializeAsString().substr(0, 20);
  for (const std::string& bytes :
       {stored.SerializeAsString(), truncated, std::string("\xff\xff")}) {
    storage::WriteRequest write;
    write.mutate = [&](storage::Txn& txn) {
      txn.Put(harness_.store().family("values"), key, bytes);
      return absl::OkStatus();
    };
    HTX_ASSERT_OK(harness_.store().Write(std::move(write)));

    v1::GetRollupRequest request;
    request.set_year(2026);
    request.set_basis(v1::ROLLUP_BASIS_COMMUNES);
    v1::Rollup rollup;
    EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup),
                StatusIs(absl::StatusCode::kDataLoss));
    request.set_unit(kOtherProvince);
    EXPECT_THAT(stub().GetRollup(Context().get(), request, &rollup),
                StatusIs(absl::StatusCode::kDataLoss));
    v1::GetTableRequest table_request;
    table_request.set_unit(kOtherProvince);
    table_request.set_year(2026);
    table_request.set_table(kTable);
    table_request.set_source(v1::TABLE_SOURCE_ROLLUP);
    v1::IndicatorTable table;
    EXPECT_THAT(stub().GetTable(Context().get(), table_request, &table),
                StatusIs(absl::StatusCode::kDataLoss));
    // Units that do not hold the record are not affected.
    request.set_unit(kProvince);
    HTX_EXPECT_OK(stub().GetRollup(Context().get(), request, &rollup));
  }
}

// ---- Findings --------------------------------------------------------------------

TEST_F(IndicatorIntegrationTest, FindingsAreExplainedAndExplanationsClearWhenFiguresChange) {
  // Share stated 50 but 8 ÷ 40 × 100 = 20: a failed warning.
  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("40")),
                       W(V(kCommune1, "plan_2026", "I.1.a"), Number("8")),
                       W(V(kCommune1, "plan_2026", "I.3"), Number("50"))});
  const std::string name =
      absl::StrCat(kCommune1, "/indicator-findings/2026/share-matches/plan_2026");
  v1::ListFindingsRequest list;
  list.set_parent(kCommune1);
  list.set_year(2026);
  list.set_blocking_only(true);
  v1::ListFindingsResponse listed;
  HTX_ASSERT_OK(stub().ListFindings(Context().get(), list, &listed));
  ASSERT_EQ(listed.findings_size(), 1);
  v1::Finding finding = listed.findings(0);
  EXPECT_EQ(finding.name(), name);
  EXPECT_EQ(finding.outcome(), v1::FINDING_OUTCOME_FAILED);
  EXPECT_EQ(finding.left(), "50");
  EXPECT_EQ(finding.right(), "20");
  EXPECT_TRUE(finding.blocks_submission());
  EXPECT_EQ(listed.summary().unexplained_warnings(), 1);
  EXPECT_EQ(listed.summary().blocking(), 1);

  v1::ExplainFindingRequest explain;
  explain.set_name(name);
  explain.set_text("Tỷ lệ tính theo số HTX của tỉnh");
  explain.set_etag("0000000000000000");
  explain.set_request_id("explain-1");
  v1::Finding explained;
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  explain.set_etag(finding.etag());
  HTX_ASSERT_OK(stub().ExplainFinding(Context().get(), explain, &explained));
  EXPECT_EQ(explained.explanation().text(), "Tỷ lệ tính theo số HTX của tỉnh");
  EXPECT_EQ(explained.explanation().author(), kAdminSubject);
  EXPECT_FALSE(explained.blocks_submission());
  v1::Finding replayed;
  HTX_ASSERT_OK(stub().ExplainFinding(Context().get(), explain, &replayed));
  EXPECT_EQ(replayed.SerializeAsString(), explained.SerializeAsString());

  HTX_ASSERT_OK(stub().ListFindings(Context().get(), list, &listed));
  EXPECT_EQ(listed.findings_size(), 0);
  EXPECT_EQ(listed.summary().warnings(), 1);
  EXPECT_EQ(listed.summary().unexplained_warnings(), 0);
  EXPECT_EQ(listed.summary().blocking(), 0);
  list.set_blocking_only(false);
  list.set_severity(v1::SEVERITY_WARNING);
  HTX_ASSERT_OK(stub().ListFindings(Context().get(), list, &listed));
  const v1::Finding* shown = nullptr;
  for (const v1::Finding& f : listed.findings()) {
    EXPECT_EQ(f.severity(), v1::SEVERITY_WARNING);
    if (f.name() == name) shown = &f;
  }
  ASSERT_NE(shown, nullptr);
  EXPECT_EQ(shown->explanation().text(), "Tỷ lệ tính theo số HTX của tỉnh");
  EXPECT_EQ(shown->etag(), explained.etag());

  // A passed finding cannot be explained; bad requests name their field.
  explain.clear_etag();
  explain.clear_request_id();
  explain.set_name(absl::StrCat(kCommune1, "/indicator-findings/2026/active-le-total/plan_2026"));
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "FINDING_NOT_FAILED"));
  explain.set_name(absl::StrCat(kCommune1, "/indicator-findings/2026/no-such-rule/plan_2026"));
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              StatusIs(absl::StatusCode::kNotFound));
  explain.set_name(absl::StrCat(kCommune1, "/indicator-findings/2026/share-matches"));
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              InvalidArgumentFor("name"));
  explain.set_name(name);
  explain.set_text("   ");
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              InvalidArgumentFor("text"));
  explain.set_text(std::string(4001, 'a'));
  EXPECT_THAT(stub().ExplainFinding(Context().get(), explain, &explained),
              InvalidArgumentFor("text"));

  // Restating the share changes `left`: the explanation no longer applies,
  // and does not come back when the old figure does.
  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.3"), Number("60"))});
  UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.3"), Number("50"))});
  list.set_blocking_only(true);
  list.clear_severity();
  HTX_ASSERT_OK(stub().ListFindings(Context().get(), list, &listed));
  ASSERT_EQ(listed.findings_size(), 1);
  EXPECT_FALSE(listed.findings(0).has_explanation());

  // Every finding, paged, in evaluation order; a token is bound to its query.
  list.set_blocking_only(false);
  list.set_include_passed(true);
  list.set_page_size(4);
  std::vector<std::string> names;
  do {
    HTX_ASSERT_OK(stub().ListFindings(Context().get(), list, &listed));
    for (const v1::Finding& f : listed.findings()) names.push_back(f.name());
    list.set_page_token(listed.next_page_token());
  } while (!listed.next_page_token().empty());
  EXPECT_EQ(names.size(), 9u);  // 4 + 4 columns, 1 registry column
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 9u);
  list.set_page_size(1);
  HTX_ASSERT_OK(stub().ListFindings(Context().get(), list, &listed));
  list.set_page_token(listed.next_page_token());
  list.set_table(kTable);
  EXPECT_THAT(stub().ListFindings(Context().get(), list, &listed),
              InvalidArgumentFor("page_token"));
}

// ---- Authorization and the change feed ---------------------------------------------

TEST_F(IndicatorIntegrationTest, EveryCallNeedsASignedPrincipalInScope) {
  auto unsigned_stub = harness_.UnsignedStub();
  v1::GetCatalogRequest get_catalog;
  get_catalog.set_name("catalogs/2026");
  v1::Catalog catalog;
  EXPECT_THAT(unsigned_stub->GetCatalog(Context().get(), get_catalog, &catalog),
              StatusIsWithReason(absl::StatusCode::kUnauthenticated, "PRINCIPAL_MISSING"));

  auto commune_editor = harness_.StubAs(TestPrincipal(auth::v1::ROLE_COMMUNE_EDITOR, kCommune1));
  v1::BatchUpsertValuesResponse response;
  HTX_EXPECT_OK(Upsert(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("3"))}, &response, "",
                       commune_editor.get()));
  EXPECT_EQ(response.values(0).provenance().author(),
            absl::StrCat("test:commune_editor@", kCommune1));
  EXPECT_THAT(Upsert(kCommune2, {W(V(kCommune2, "plan_2026", "I.1"), Number("3"))}, &response, "",
                     commune_editor.get()),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  // A write naming another unit inside a batch is refused too.
  EXPECT_THAT(Upsert(kCommune1, {W(V(kCommune2, "plan_2026", "I.1"), Number("3"))}, &response, "",
                     commune_editor.get()),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  EXPECT_THAT(commune_editor->ImportCatalog(Context().get(), TestCatalog(2027), &catalog),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  // The catalog is global: anyone may read it.
  HTX_EXPECT_OK(commune_editor->GetCatalog(Context().get(), get_catalog, &catalog));

  v1::GetTableRequest table;
  table.set_unit(kProvince);
  table.set_year(2026);
  table.set_table(kTable);
  v1::IndicatorTable got;
  EXPECT_THAT(commune_editor->GetTable(Context().get(), table, &got),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  type::v1::ListChangesRequest changes;
  type::v1::ListChangesResponse feed;
  EXPECT_THAT(commune_editor->ListChanges(Context().get(), changes, &feed),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));

  auto auditor = harness_.StubAs(TestPrincipal(auth::v1::ROLE_AUDITOR, kProvince));
  EXPECT_THAT(Upsert(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number("4"))}, &response, "",
                     auditor.get()),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  v1::GetValueRequest get_value;
  get_value.set_name(V(kCommune1, "plan_2026", "I.1"));
  v1::IndicatorValue value;
  HTX_EXPECT_OK(auditor->GetValue(Context().get(), get_value, &value));
  EXPECT_EQ(value.value().number(), "3");
  HTX_EXPECT_OK(auditor->GetTable(Context().get(), table, &got));

  auto province_editor =
      harness_.StubAs(TestPrincipal(auth::v1::ROLE_PROVINCE_EDITOR, kOtherProvince));
  EXPECT_THAT(province_editor->GetValue(Context().get(), get_value, &value),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE"));
  type::v1::SetLockRequest set_lock;
  set_lock.set_name(absl::StrCat(kOtherProvince, "/indicator-locks/2026"));
  set_lock.set_locked(true);
  set_lock.set_holder("x");
  type::v1::Lock lock;
  EXPECT_THAT(province_editor->SetLock(Context().get(), set_lock, &lock),
              StatusIsWithReason(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
}

TEST_F(IndicatorIntegrationTest, ChangeFeedListsEveryWriteInOrder) {
  const uint64_t start = LastSequence();
  EXPECT_EQ(start, 1u);  // the catalog of SetUp
  UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.1"), Number("1")),
                       W(V(kProvince, "plan_2026", "I.1.a"), Number("1"))});
  UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.1"), Number("2"))});
  type::v1::Lock lock;
  HTX_ASSERT_OK(Lock(kProvince, true, &lock));

  type::v1::ListChangesRequest request;
  request.set_page_size(3);
  type::v1::ListChangesResponse response;
  HTX_ASSERT_OK(stub().ListChanges(Context().get(), request, &response));
  EXPECT_EQ(response.last_sequence(), 5u);
  ASSERT_EQ(response.changes_size(), 3);
  EXPECT_EQ(response.changes(0).resource(), "catalogs/2026");
  EXPECT_EQ(response.changes(0).kind(), type::v1::CHANGE_KIND_CREATED);
  EXPECT_EQ(response.changes(1).resource(), V(kProvince, "plan_2026", "I.1"));
  EXPECT_EQ(response.changes(1).kind(), type::v1::CHANGE_KIND_CREATED);
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_page_token(response.next_page_token());
  HTX_ASSERT_OK(stub().ListChanges(Context().get(), request, &response));
  ASSERT_EQ(response.changes_size(), 2);
  EXPECT_EQ(response.changes(0).sequence(), 4u);
  EXPECT_EQ(response.changes(0).kind(), type::v1::CHANGE_KIND_UPDATED);
  v1::IndicatorValue after;
  ASSERT_TRUE(response.changes(0).resource_after().UnpackTo(&after));
  EXPECT_EQ(after.value().number(), "2");
  EXPECT_EQ(after.revision(), 2);
  EXPECT_EQ(response.changes(1).resource(), absl::StrCat(kProvince, "/indicator-locks/2026"));
  EXPECT_TRUE(response.next_page_token().empty());

  request.set_after_sequence(2);
  EXPECT_THAT(stub().ListChanges(Context().get(), request, &response),
              InvalidArgumentFor("page_token"));
}

// ---- The shipped catalog ------------------------------------------------------------

// Hà Nội's Phụ lục I, first rows, as printed in Kế hoạch 381/KH-UBND.
constexpr char kHanoiExcerpt[] =
    "code,parent,label_vi,unit,actual_2024,plan_2025,estimate_2025,plan_2026\n"
    "I,,Hợp tác xã,,,,,\n"
    "I.1,I,Tổng số hợp tác xã,HTX,2675,2698,2912,2962\n"
    "I.1.a,I.1,Số hợp tác xã đang hoạt động,HTX,2330,2353,2441,2591\n"
    "I.1.b,I.1,Số hợp tác xã thành lập mới,HTX,149,100,250,150\n"
    "I.1.c,I.1,Số hợp tác xã giải thể,HTX,12,30,13,100\n";

TEST(IndicatorShippedCatalogTest, HanoiFiguresMakeATableAndFindings) {
  absl::StatusOr<v1::ImportCatalogRequest> shipped = LoadCatalogFile(kCatalog2026Path);
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  IndicatorHarness harness;
  v1::Catalog catalog;
  HTX_ASSERT_OK(harness.stub().ImportCatalog(Context().get(), *shipped, &catalog));
  EXPECT_EQ(catalog.name(), "catalogs/2026");
  absl::StatusOr<std::vector<v1::ValueWrite>> writes =
      ParseAppendixCsvText(kHanoiExcerpt, "excerpt", kProvince, 2026, *shipped);
  ASSERT_TRUE(writes.ok()) << writes.status();
  v1::BatchUpsertValuesRequest upsert;
  upsert.set_parent(kProvince);
  upsert.set_year(2026);
  upsert.set_source_system("ke-hoach-381");
  for (const v1::ValueWrite& write : *writes) *upsert.add_writes() = write;
  v1::BatchUpsertValuesResponse written;
  HTX_ASSERT_OK(harness.stub().BatchUpsertValues(Context().get(), upsert, &written));
  EXPECT_EQ(written.values_size(), 16);

  harness.registry().SetCounts(kProvince, HtxTotal(2675));
  v1::GetTableRequest request;
  request.set_unit(kProvince);
  request.set_year(2026);
  request.set_table("phu-luc-1");
  v1::IndicatorTable table;
  HTX_ASSERT_OK(harness.stub().GetTable(Context().get(), request, &table));
  const v1::TableRow* total = nullptr;
  for (const v1::TableRow& row : table.rows()) {
    if (row.indicator() == "I.1") total = &row;
  }
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->cells(3).value().number(), "2962");
  EXPECT_EQ(total->cells(0).registry_value().number(), "2675");

  // The plan's own arithmetic: 2698 ≠ 2675 + 100 - 30 = 2745.
  v1::ListFindingsRequest findings;
  findings.set_parent(kProvince);
  findings.set_year(2026);
  v1::ListFindingsResponse listed;
  HTX_ASSERT_OK(harness.stub().ListFindings(Context().get(), findings, &listed));
  bool stock_flow = false;
  for (const v1::Finding& f : listed.findings()) {
    if (f.name() == absl::StrCat(kProvince, "/indicator-findings/2026/stock-flow-htx/plan_2025")) {
      stock_flow = true;
      EXPECT_EQ(f.outcome(), v1::FINDING_OUTCOME_FAILED);
      EXPECT_EQ(f.left(), "2698");
      EXPECT_EQ(f.right(), "2745");
    }
  }
  EXPECT_TRUE(stock_flow);
  EXPECT_EQ(table.findings().blocking(), listed.summary().blocking());
}

// ---- Readiness and the real registry ---------------------------------------------------

TEST(IndicatorReadinessTest, NotServingUntilTheStoreIsAttached) {
  IndicatorHarness::Options options;
  options.attach = false;
  IndicatorHarness harness(options);
  auto health =
      server::CheckHealth(harness.channel(), "htx.indicator.v1.IndicatorService", absl::Seconds(5));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, server::Health::kNotServing);
  v1::GetCatalogRequest request;
  request.set_name("catalogs/2026");
  v1::Catalog catalog;
  EXPECT_THAT(harness.stub().GetCatalog(Context().get(), request, &catalog),
              StatusIs(absl::StatusCode::kUnavailable));
  harness.Attach();
  EXPECT_THAT(harness.stub().GetCatalog(Context().get(), request, &catalog),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(IndicatorRegistryTest, DerivedRowsShowTheRealRegistrysCount) {
  registry::RegistryHarness registry_harness;
  registry::v1::ImportUnitsRequest units;
  *units.add_units() =
      registry::MakeUnit(kProvince, registry::v1::UNIT_KIND_CITY, "Thành phố Hà Nội");
  *units.add_units() = registry::MakeUnit(kCommune1, registry::v1::UNIT_KIND_WARD, "Phường mẫu 1");
  registry::v1::ImportUnitsResponse imported;
  HTX_ASSERT_OK(registry_harness.stub().ImportUnits(Context().get(), units, &imported));
  for (const char* code : {"0100000001", "0100000002"}) {
    registry::v1::CreateOrganizationRequest create;
    create.set_parent(kProvince);
    registry::v1::Organization* o = create.mutable_organization();
    o->set_registration_code(code);
    o->set_kind(registry::v1::ORGANIZATION_KIND_HTX);
    o->set_display_name(absl::StrCat("HTX mẫu ", code));
    o->set_commune(kCommune1);
    o->set_sector(registry::v1::SECTOR_AGRICULTURE);
    *o->mutable_founding_date() = D(2020, 3, 15);
    registry::v1::Organization created;
    HTX_ASSERT_OK(registry_harness.stub().CreateOrganization(Context().get(), create, &created));
  }

  registry::GrpcRegistryClient client(
      server::SignedChannel(registry_harness.address(), testing::TestInternalKey(),
                            registry::ServicePrincipal("service:htx-indicator")));
  IndicatorHarness::Options options;
  options.registry = &client;
  IndicatorHarness harness(options);
  v1::Catalog catalog;
  HTX_ASSERT_OK(harness.stub().ImportCatalog(Context().get(), TestCatalog(), &catalog));
  v1::GetTableRequest request;
  request.set_unit(kProvince);
  request.set_year(2026);
  request.set_table(kTable);
  v1::IndicatorTable table;
  HTX_ASSERT_OK(harness.stub().GetTable(Context().get(), request, &table));
  EXPECT_FALSE(table.registry_unavailable());
  EXPECT_EQ(table.rows(1).cells(0).registry_value().number(), "2");

  // A registry nobody answers at: the table comes back, without figures.
  registry::GrpcRegistryClient dead(
      server::SignedChannel("127.0.0.1:1", testing::TestInternalKey(),
                            registry::ServicePrincipal("service:htx-indicator")),
      absl::Milliseconds(300));
  IndicatorHarness::Options dead_options;
  dead_options.registry = &dead;
  IndicatorHarness lonely(dead_options);
  HTX_ASSERT_OK(lonely.stub().ImportCatalog(Context().get(), TestCatalog(), &catalog));
  HTX_ASSERT_OK(lonely.stub().GetTable(Context().get(), request, &table));
  EXPECT_TRUE(table.registry_unavailable());
}

// ---- Units the registry must know ----------------------------------------------------

// A stream of one IngestValues message; its answer.
v1::IngestValuesResponse IngestOnce(v1::IndicatorService::Stub& stub,
                                    const v1::IngestValuesRequest& batch) {
  auto context = Context(30);
  auto stream = stub.IngestValues(context.get());
  v1::IngestValuesResponse response;
  EXPECT_TRUE(stream->Write(batch));
  EXPECT_TRUE(stream->Read(&response));
  EXPECT_TRUE(stream->WritesDone());
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

v1::ValueWrite Row(const std::string& name, const v1::CellValue& value, const std::string& id) {
  v1::ValueWrite row = W(name, value);
  row.set_request_id(id);
  return row;
}

constexpr char kUnknownProvince[] = "provinces/99";
constexpr char kMisspeltCommune[] = "provinces/01/communes/00009";

TEST_F(IndicatorIntegrationTest, BatchUpsertRefusesUnitsTheRegistryDoesNotKnow) {
  harness_.registry().SetKnownUnits({kProvince, kCommune1, kCommune2});
  const uint64_t before = LastSequence();
  for (const std::string unit : {kUnknownProvince, kMisspeltCommune}) {
    v1::BatchUpsertValuesResponse response;
    grpc::Status status = Upsert(unit,
                                 {W(V(unit, "plan_2026", "I.1"), Number("5")),
                                  W(V(unit, "plan_2026", "I.1.a"), Number("3"))},
                                 &response);
    EXPECT_THAT(status, InvalidArgumentFor("writes[0].name")) << unit;
    EXPECT_THAT(status, StatusIsWithReason(absl::StatusCode::kInvalidArgument, "UNKNOWN_UNIT"));
    EXPECT_NE(status.error_message().find(unit), std::string::npos) << status.error_message();
    v1::IndicatorValue value;
    EXPECT_THAT(Get(V(unit, "plan_2026", "I.1"), &value), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(Get(V(unit, "plan_2026", "I.1.a"), &value), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_EQ(LastSequence(), before);

  // A known unit is written as before.
  UpsertOk(kProvince, {W(V(kProvince, "plan_2026", "I.1"), Number("5"))});
  v1::IndicatorValue value;
  HTX_ASSERT_OK(Get(V(kProvince, "plan_2026", "I.1"), &value));
  EXPECT_EQ(value.value().number(), "5");
}

TEST_F(IndicatorIntegrationTest, IngestRejectsRowsOfUnknownUnitsAndKeepsTheOthers) {
  harness_.registry().SetKnownUnits({kProvince, kCommune1, kCommune2});
  v1::IngestValuesRequest batch;
  batch.set_source_system("lmhtx-sync");
  *batch.add_rows() = Row(V(kCommune1, "plan_2026", "I.1"), Number("12"), "row-0");
  *batch.add_rows() = Row(V(kUnknownProvince, "plan_2026", "I.1"), Number("7"), "row-1");
  *batch.add_rows() = Row(V(kCommune1, "plan_2026", "I.1.a"), Number("3"), "row-2");
  *batch.add_rows() = Row(V(kMisspeltCommune, "plan_2026", "I.1"), Number("4"), "row-3");
  *batch.add_rows() = Row(V(kUnknownProvince, "plan_2026", "I.1.a"), Number("2"), "row-4");
  v1::IngestValuesResponse response = IngestOnce(stub(), batch);
  ASSERT_EQ(response.results_size(), 5);
  EXPECT_EQ(response.applied(), 2);
  EXPECT_EQ(response.rejected(), 3);
  EXPECT_EQ(response.results(0).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  EXPECT_EQ(response.results(2).outcome(), type::v1::RowResult::OUTCOME_APPLIED);
  for (int i : {1, 3, 4}) {
    const type::v1::RowResult& result = response.results(i);
    EXPECT_EQ(result.outcome(), type::v1::RowResult::OUTCOME_REJECTED) << i;
    EXPECT_EQ(result.code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
    EXPECT_NE(result.message().find(absl::StrCat("rows[", i, "].name")), std::string::npos)
        << result.message();
    EXPECT_TRUE(result.resource().empty());
  }
  // Each unit was asked once, however many rows named it.
  EXPECT_EQ(harness_.registry().unit_calls(kUnknownProvince), 1);

  v1::IndicatorValue value;
  HTX_ASSERT_OK(Get(V(kCommune1, "plan_2026", "I.1"), &value));
  EXPECT_EQ(value.value().number(), "12");
  HTX_ASSERT_OK(Get(V(kCommune1, "plan_2026", "I.1.a"), &value));
  EXPECT_EQ(value.value().number(), "3");
  EXPECT_THAT(Get(V(kUnknownProvince, "plan_2026", "I.1"), &value),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Get(V(kMisspeltCommune, "plan_2026", "I.1"), &value),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(IndicatorIntegrationTest, WritesAreRefusedWhileTheRegistryCannotCheckTheirUnit) {
  harness_.registry().SetUnitLookupsFail(true);
  const uint64_t before = LastSequence();
  const std::string name = V(kCommune1, "plan_2026", "I.1");
  v1::BatchUpsertValuesResponse response;
  grpc::Status status = Upsert(kCommune1, {W(name, Number("5"))}, &response);
  EXPECT_THAT(status, StatusIsWithReason(absl::StatusCode::kUnavailable, "REGISTRY_UNAVAILABLE"));
  EXPECT_NE(status.error_message().find("could not be checked"), std::string::npos)
      << status.error_message();

  v1::IngestValuesRequest batch;
  batch.set_source_system("lmhtx-sync");
  *batch.add_rows() = Row(name, Number("6"), "row-0");
  v1::IngestValuesResponse ingested = IngestOnce(stub(), batch);
  ASSERT_EQ(ingested.results_size(), 1);
  EXPECT_EQ(ingested.rejected(), 1);
  EXPECT_EQ(ingested.results(0).code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(ingested.results(0).message().find("rows[0].name"), std::string::npos);

  v1::IndicatorValue value;
  EXPECT_THAT(Get(name, &value), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(LastSequence(), before);

  // Retried once the registry answers, the same writes go through.
  harness_.registry().SetUnitLookupsFail(false);
  UpsertOk(kCommune1, {W(name, Number("5"))});
  ingested = IngestOnce(stub(), batch);
  EXPECT_EQ(ingested.applied(), 1);
  HTX_ASSERT_OK(Get(name, &value));
  EXPECT_EQ(value.value().number(), "6");
}

TEST_F(IndicatorIntegrationTest, AKnownUnitIsAskedOnceForManyWrites) {
  for (int i = 0; i < 5; ++i) {
    UpsertOk(kCommune1, {W(V(kCommune1, "plan_2026", "I.1"), Number(absl::StrCat(10 + i)))});
  }
  v1::IngestValuesRequest batch;
  batch.set_source_system("lmhtx-sync");
  for (int i = 0; i < 3; ++i) {
    const std::string id = absl::StrCat(i);
    *batch.add_rows() = Row(V(kCommune1, "plan_2026", "I.1.a"), Number(id), "c1-" + id);
    *batch.add_rows() = Row(V(kCommune2, "plan_2026", "I.1.a"), Number(id), "c2-" + id);
  }
  v1::IngestValuesResponse response = IngestOnce(stub(), batch);
  EXPECT_EQ(response.applied(), 6);
  EXPECT_EQ(IngestOnce(stub(), batch).already_applied(), 6);
  EXPECT_EQ(harness_.registry().unit_calls(kCommune1), 1);
  EXPECT_EQ(harness_.registry().unit_calls(kCommune2), 1);
  EXPECT_EQ(harness_.registry().unit_calls(kProvince), 0);
}

TEST(IndicatorRegistryTest, WritesNeedAUnitTheRealRegistryKnows) {
  registry::RegistryHarness registry_harness;
  registry::v1::ImportUnitsRequest units;
  *units.add_units() =
      registry::MakeUnit(kProvince, registry::v1::UNIT_KIND_CITY, "Thành phố Hà Nội");
  registry::v1::ImportUnitsResponse imported;
  HTX_ASSERT_OK(registry_harness.stub().ImportUnits(Context().get(), units, &imported));
  registry::GrpcRegistryClient client(
      server::SignedChannel(registry_harness.address(), testing::TestInternalKey(),
                            registry::ServicePrincipal("service:htx-indicator")));
  IndicatorHarness::Options options;
  options.registry = &client;
  IndicatorHarness harness(options);
  v1::Catalog catalog;
  HTX_ASSERT_OK(harness.stub().ImportCatalog(Context().get(), TestCatalog(), &catalog));
  auto upsert = [&](const std::string& unit) {
    v1::BatchUpsertValuesRequest request;
    request.set_parent(unit);
    request.set_year(2026);
    request.set_source_system("web");
    *request.add_writes() = W(V(unit, "plan_2026", "I.1"), Number("5"));
    v1::BatchUpsertValuesResponse response;
    return harness.stub().BatchUpsertValues(Context().get(), request, &response);
  };
  HTX_EXPECT_OK(upsert(kProvince));
  EXPECT_THAT(upsert(kCommune1), InvalidArgumentFor("writes[0].name"));
}

}  // namespace
}  // namespace htx::indicator
