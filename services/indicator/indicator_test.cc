// The indicator service's write paths over a real store, without a server or
// a registry: bulk ingest row by row (rejections, replays, locks, several
// writes of one cell, stale explanations) and what each applied row leaves
// behind (revision, history, change feed).
#include "services/indicator/indicator.h"

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/test_store.h"
#include "common/testing/testing.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace htx::indicator {
namespace {

using ::htx::testing::StatusIs;
using ::htx::testing::TempDir;
using ::htx::testing::TestNow;
using Outcome = type::v1::RowResult;

constexpr char kCommune1[] = "provinces/01/communes/00001";
constexpr char kCommune2[] = "provinces/01/communes/00002";
constexpr char kTable[] = "phu-luc-1";
constexpr char kAuthor[] = "test:importer@";

v1::Indicator MakeIndicator(const std::string& code, const std::string& parent,
                            v1::ChildRelation relation, int sort_key, v1::Aggregation aggregation) {
  v1::Indicator indicator;
  indicator.set_code(code);
  indicator.set_table(kTable);
  indicator.set_parent(parent);
  indicator.set_relation(relation);
  indicator.set_sort_key(sort_key);
  indicator.set_printed_number(code);
  indicator.set_label(code);
  indicator.set_aggregation(aggregation);
  return indicator;
}

// A heading, a count with an "of which" row, and a share of the two checked
// by a rule, in two columns.
v1::ImportCatalogRequest TestCatalog() {
  v1::ImportCatalogRequest request;
  v1::Catalog* catalog = request.mutable_catalog();
  catalog->set_year(2026);
  catalog->set_display_name("Chỉ tiêu KTTT 2026");
  v1::CatalogTable* table = catalog->add_tables();
  table->set_id(kTable);
  table->set_heading("PHỤ LỤC I");
  table->set_title("TÌNH HÌNH PHÁT TRIỂN KINH TẾ TẬP THỂ");
  for (auto [id, kind, year] : {std::tuple{"actual_2024", v1::COLUMN_KIND_ACTUAL, 2024},
                                std::tuple{"plan_2026", v1::COLUMN_KIND_PLAN, 2026}}) {
    v1::Column* column = table->add_columns();
    column->set_id(id);
    column->set_kind(kind);
    column->set_year(year);
    column->set_label(id);
  }
  v1::Indicator heading =
      MakeIndicator("I", "", v1::CHILD_RELATION_UNSPECIFIED, 1, v1::AGGREGATION_UNSPECIFIED);
  heading.set_heading(true);
  *request.add_indicators() = heading;
  *request.add_indicators() =
      MakeIndicator("I.1", "I", v1::CHILD_RELATION_SECTION, 2, v1::AGGREGATION_SUM);
  *request.add_indicators() =
      MakeIndicator("I.1.a", "I.1", v1::CHILD_RELATION_OF_WHICH, 3, v1::AGGREGATION_SUM);
  v1::Indicator share =
      MakeIndicator("I.3", "I", v1::CHILD_RELATION_SECTION, 5, v1::AGGREGATION_SHARE);
  share.set_numerator_indicator("I.1.a");
  share.set_denominator_indicator("I.1");
  share.set_max_decimals(2);
  *request.add_indicators() = share;
  v1::ValidationRule* rule = request.add_rules();
  rule->set_name("share-matches");
  rule->set_kind(v1::RULE_KIND_SHARE_MATCHES);
  rule->set_severity(v1::SEVERITY_WARNING);
  rule->set_subject("I.3");
  rule->set_tolerance("0.1");
  return request;
}

std::string V(const std::string& unit, const std::string& column, const std::string& code) {
  return absl::StrCat(unit, "/indicator-values/2026/", column, "/", code);
}

v1::ValueWrite Row(const std::string& name, const std::string& number,
                   const std::string& request_id) {
  v1::ValueWrite row;
  row.set_name(name);
  row.mutable_value()->set_state(v1::VALUE_STATE_NUMBER);
  row.mutable_value()->set_number(number);
  row.set_request_id(request_id);
  return row;
}

// Runs an operation reporting through `done` and waits for it.
template <typename Start>
absl::Status Await(Start start) {
  std::promise<absl::Status> outcome;
  start([&outcome](absl::Status status) { outcome.set_value(std::move(status)); });
  return outcome.get_future().get();
}

class IndicatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Catalog catalog;
    HTX_ASSERT_OK(Await(
        [&](Done done) { indicator_.ImportCatalog(TestCatalog(), &catalog, std::move(done)); }));
  }

  v1::IngestValuesResponse Ingest(const std::vector<v1::ValueWrite>& rows) {
    v1::IngestValuesRequest request;
    request.set_source_system("lmhtx-sync");
    for (const v1::ValueWrite& row : rows) *request.add_rows() = row;
    v1::IngestValuesResponse response;
    absl::Status status = Await(
        [&](Done done) { indicator_.IngestBatch(request, kAuthor, &response, std::move(done)); });
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(response.results_size(), request.rows_size());
    return response;
  }

  absl::StatusOr<v1::IndicatorValue> Get(const std::string& name) {
    v1::GetValueRequest request;
    request.set_name(name);
    return indicator_.GetValue(request);
  }

  std::vector<v1::ValueRevision> History(const std::string& name) {
    v1::ListValueHistoryRequest request;
    request.set_name(name);
    absl::StatusOr<v1::ListValueHistoryResponse> history = indicator_.ListValueHistory(request);
    if (!history.ok()) return {};
    return {history->revisions().begin(), history->revisions().end()};
  }

  std::vector<type::v1::Change> Changes(uint64_t after) {
    type::v1::ListChangesRequest request;
    request.set_after_sequence(after);
    request.set_page_size(100);
    absl::StatusOr<type::v1::ListChangesResponse> changes = indicator_.ListChanges(request);
    EXPECT_TRUE(changes.ok()) << changes.status();
    if (!changes.ok()) return {};
    return {changes->changes().begin(), changes->changes().end()};
  }

  absl::Status Lock(const std::string& unit) {
    type::v1::SetLockRequest request;
    request.set_name(absl::StrCat(unit, "/indicator-locks/2026"));
    request.set_locked(true);
    request.set_holder(absl::StrCat(unit, "/submissions/2026-plan"));
    type::v1::Lock lock;
    return Await([&](Done done) { indicator_.SetLock(request, &lock, std::move(done)); });
  }

  TempDir dir_;
  std::unique_ptr<storage::Store> store_ =
      testing::OpenTestStore(dir_.path(), Indicator::ColumnFamilies(), TestNow());
  Indicator indicator_{store_.get(), /*registry=*/nullptr, [] { return TestNow(); }};
};

void ExpectRejected(const Outcome& result, absl::StatusCode code, const std::string& in_message) {
  EXPECT_EQ(result.outcome(), Outcome::OUTCOME_REJECTED) << result.DebugString();
  EXPECT_EQ(result.code(), static_cast<int>(code)) << result.DebugString();
  EXPECT_NE(result.message().find(in_message), std::string::npos) << result.DebugString();
  EXPECT_TRUE(result.resource().empty()) << result.DebugString();
}

TEST_F(IndicatorTest, OneMessageWritesItsGoodRowsAndNothingOfItsBadOnes) {
  const uint64_t before = store_->last_sequence();
  v1::ValueWrite stale = Row(V(kCommune1, "actual_2024", "I.1"), "7", "row-4");
  stale.set_etag("ffff");  // found bad on the writer thread, after its row's reads
  v1::IngestValuesResponse response =
      Ingest({Row(V(kCommune1, "plan_2026", "I.1"), "12", "row-0"),
              Row(V(kCommune1, "plan_2026", "I.3"), "1.555", "row-1"),  // too many decimals
              Row(V(kCommune1, "plan_2026", "I.1.a"), "03", "row-2"),
              Row(V(kCommune1, "plan_2026", "I"), "1", "row-3"),  // a heading
              stale, Row(V(kCommune1, "plan_2026", "I.3"), "25", "")});
  EXPECT_EQ(response.applied(), 2);
  EXPECT_EQ(response.rejected(), 4);
  EXPECT_EQ(response.already_applied(), 0);
  for (int i = 0; i < response.results_size(); ++i) {
    EXPECT_EQ(response.results(i).index(), i);
  }
  EXPECT_EQ(response.results(0).outcome(), Outcome::OUTCOME_APPLIED);
  EXPECT_EQ(response.results(0).resource(), V(kCommune1, "plan_2026", "I.1"));
  ExpectRejected(response.results(1), absl::StatusCode::kInvalidArgument, "rows[1].value.number");
  EXPECT_EQ(response.results(2).outcome(), Outcome::OUTCOME_APPLIED);
  EXPECT_EQ(response.results(2).resource(), V(kCommune1, "plan_2026", "I.1.a"));
  ExpectRejected(response.results(3), absl::StatusCode::kInvalidArgument, "rows[3].name");
  ExpectRejected(response.results(4), absl::StatusCode::kAborted, "rows[4].etag");
  ExpectRejected(response.results(5), absl::StatusCode::kInvalidArgument, "rows[5].request_id");

  absl::StatusOr<v1::IndicatorValue> value = Get(V(kCommune1, "plan_2026", "I.1.a"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value().number(), "3");  // canonical
  for (const char* column_code : {"plan_2026/I.3", "actual_2024/I.1", "plan_2026/I"}) {
    const std::string name = absl::StrCat(kCommune1, "/indicator-values/2026/", column_code);
    EXPECT_THAT(Get(name), StatusIs(absl::StatusCode::kNotFound)) << name;
    EXPECT_TRUE(History(name).empty()) << name;
  }
  std::vector<type::v1::Change> changes = Changes(before);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].resource(), V(kCommune1, "plan_2026", "I.1"));
  EXPECT_EQ(changes[1].resource(), V(kCommune1, "plan_2026", "I.1.a"));
  EXPECT_EQ(store_->last_sequence(), before + 2);

  // A rejected row's request_id stays unused: sent again, fixed, it applies.
  v1::ValueWrite fixed = stale;
  fixed.clear_etag();
  response = Ingest({fixed});
  EXPECT_EQ(response.applied(), 1);
}

TEST_F(IndicatorTest, AReplayedRowIsAlreadyAppliedAndWritesNothing) {
  const v1::ValueWrite row = Row(V(kCommune1, "plan_2026", "I.1"), "12", "row-0");
  ASSERT_EQ(Ingest({row}).applied(), 1);
  const uint64_t sequence = store_->last_sequence();

  // Re-sent at another index, next to a new row.
  v1::IngestValuesResponse response =
      Ingest({Row(V(kCommune1, "plan_2026", "I.1.a"), "3", "row-1"), row});
  EXPECT_EQ(response.applied(), 1);
  EXPECT_EQ(response.already_applied(), 1);
  EXPECT_EQ(response.results(1).outcome(), Outcome::OUTCOME_ALREADY_APPLIED);
  EXPECT_EQ(response.results(1).index(), 1);
  EXPECT_EQ(response.results(1).resource(), V(kCommune1, "plan_2026", "I.1"));
  EXPECT_EQ(response.results(1).code(), 0);

  absl::StatusOr<v1::IndicatorValue> value = Get(row.name());
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->revision(), 1);
  EXPECT_EQ(History(row.name()).size(), 1u);
  EXPECT_EQ(store_->last_sequence(), sequence + 1);  // row-1's change only
}

TEST_F(IndicatorTest, ARequestIdReusedForOtherContentRejectsThatRowOnly) {
  ASSERT_EQ(Ingest({Row(V(kCommune1, "plan_2026", "I.1"), "12", "row-0")}).applied(), 1);
  const uint64_t sequence = store_->last_sequence();

  v1::IngestValuesResponse response =
      Ingest({Row(V(kCommune1, "plan_2026", "I.1"), "13", "row-0"),
              Row(V(kCommune1, "plan_2026", "I.1.a"), "3", "row-1")});
  EXPECT_EQ(response.applied(), 1);
  EXPECT_EQ(response.rejected(), 1);
  ExpectRejected(response.results(0), absl::StatusCode::kInvalidArgument,
                 "request_id: already used for a different request");
  EXPECT_EQ(response.results(1).outcome(), Outcome::OUTCOME_APPLIED);

  absl::StatusOr<v1::IndicatorValue> value = Get(V(kCommune1, "plan_2026", "I.1"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value().number(), "12");
  EXPECT_EQ(value->revision(), 1);
  EXPECT_EQ(store_->last_sequence(), sequence + 1);
}

TEST_F(IndicatorTest, ALockedUnitYearsRowsAreRefusedAndAnotherUnitsApplied) {
  HTX_ASSERT_OK(Lock(kCommune2));
  const uint64_t sequence = store_->last_sequence();
  v1::IngestValuesResponse response =
      Ingest({Row(V(kCommune2, "plan_2026", "I.1"), "5", "row-0"),
              Row(V(kCommune1, "plan_2026", "I.1"), "12", "row-1"),
              Row(V(kCommune2, "plan_2026", "I.1.a"), "3", "row-2")});
  EXPECT_EQ(response.applied(), 1);
  EXPECT_EQ(response.rejected(), 2);
  for (int i : {0, 2}) {
    ExpectRejected(response.results(i), absl::StatusCode::kFailedPrecondition,
                   absl::StrCat(kCommune2, "/indicator-locks/2026 is locked"));
  }
  EXPECT_EQ(response.results(1).outcome(), Outcome::OUTCOME_APPLIED);
  EXPECT_THAT(Get(V(kCommune2, "plan_2026", "I.1")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Get(V(kCommune2, "plan_2026", "I.1.a")), StatusIs(absl::StatusCode::kNotFound));
  HTX_EXPECT_OK(Get(V(kCommune1, "plan_2026", "I.1")).status());
  EXPECT_EQ(store_->last_sequence(), sequence + 1);
}

TEST_F(IndicatorTest, TheSecondRowOfACellSeesTheFirst) {
  const std::string name = V(kCommune1, "plan_2026", "I.1");
  const uint64_t before = store_->last_sequence();
  v1::IngestValuesResponse response =
      Ingest({Row(name, "10", "row-0"), Row(name, "11", "row-1"), Row(name, "011", "row-2")});
  EXPECT_EQ(response.applied(), 3);

  absl::StatusOr<v1::IndicatorValue> value = Get(name);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value().number(), "11");
  EXPECT_EQ(value->revision(), 2);  // the third row changed nothing
  EXPECT_EQ(value->provenance().request_id(), "row-1");
  std::vector<v1::ValueRevision> history = History(name);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].revision(), 2);  // newest first
  EXPECT_EQ(history[0].value().number(), "11");
  EXPECT_EQ(history[1].revision(), 1);
  EXPECT_EQ(history[1].value().number(), "10");
  std::vector<type::v1::Change> changes = Changes(before);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].kind(), type::v1::CHANGE_KIND_CREATED);
  EXPECT_EQ(changes[1].kind(), type::v1::CHANGE_KIND_UPDATED);
}

TEST_F(IndicatorTest, AnExplanationIsClearedWhenARowChangesWhatItExplains) {
  // I.3 states 90% where I.1.a / I.1 is 50%: the share rule fails.
  ASSERT_EQ(Ingest({Row(V(kCommune1, "plan_2026", "I.1"), "10", "row-0"),
                    Row(V(kCommune1, "plan_2026", "I.1.a"), "5", "row-1"),
                    Row(V(kCommune1, "plan_2026", "I.3"), "90", "row-2")})
                .applied(),
            3);
  const std::string finding =
      absl::StrCat(kCommune1, "/indicator-findings/2026/share-matches/plan_2026");
  v1::ExplainFindingRequest explain;
  explain.set_name(finding);
  explain.set_text("Số liệu đã được xác minh");
  v1::Finding explained;
  HTX_ASSERT_OK(Await([&](Done done) {
    indicator_.ExplainFinding(explain, kAuthor, &explained, std::move(done));
  }));
  const storage::Family explanations = store_->family("explanations");
  auto stored = [&] {
    absl::StatusOr<std::optional<std::string>> record = store_->Get(explanations, finding);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() && record->has_value();
  };
  ASSERT_TRUE(stored());

  // A row the finding does not depend on keeps it.
  EXPECT_EQ(Ingest({Row(V(kCommune1, "actual_2024", "I.1"), "8", "row-3")}).applied(), 1);
  EXPECT_TRUE(stored());
  // One that changes its numerator clears it, in the same message as others.
  v1::IngestValuesResponse response =
      Ingest({Row(V(kCommune2, "plan_2026", "I.1"), "4", "row-4"),
              Row(V(kCommune1, "plan_2026", "I.1.a"), "6", "row-5")});
  EXPECT_EQ(response.applied(), 2);
  EXPECT_FALSE(stored());
}

TEST_F(IndicatorTest, EachAppliedRowHasItsRevisionHistoryAndChange) {
  const uint64_t before = store_->last_sequence();
  const std::vector<v1::ValueWrite> rows = {Row(V(kCommune1, "plan_2026", "I.1"), "12", "row-0"),
                                            Row(V(kCommune2, "plan_2026", "I.1"), "7", "row-1"),
                                            Row(V(kCommune1, "plan_2026", "I.1.a"), "2", "row-2")};
  ASSERT_EQ(Ingest(rows).applied(), 3);
  std::vector<type::v1::Change> changes = Changes(before);
  ASSERT_EQ(changes.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const v1::ValueWrite& row = rows[i];
    absl::StatusOr<v1::IndicatorValue> value = Get(row.name());
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(value->revision(), 1);
    EXPECT_EQ(value->value().number(), row.value().number());
    EXPECT_FALSE(value->etag().empty());
    const v1::Provenance& provenance = value->provenance();
    EXPECT_EQ(provenance.author(), kAuthor);
    EXPECT_EQ(provenance.source_system(), "lmhtx-sync");
    EXPECT_EQ(provenance.request_id(), row.request_id());
    EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToNanoseconds(provenance.write_time()),
              absl::ToUnixNanos(TestNow()));

    std::vector<v1::ValueRevision> history = History(row.name());
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].name(), absl::StrCat(row.name(), "/revisions/1"));
    EXPECT_EQ(history[0].value().number(), row.value().number());
    EXPECT_EQ(history[0].provenance().request_id(), row.request_id());

    // The feed follows the message's order, each change tagged with its row.
    const type::v1::Change& change = changes[i];
    EXPECT_EQ(change.sequence(), before + 1 + i);
    EXPECT_EQ(change.resource(), row.name());
    EXPECT_EQ(change.kind(), type::v1::CHANGE_KIND_CREATED);
    EXPECT_EQ(change.request_id(), absl::StrCat("IngestValues/", row.request_id()));
    v1::IndicatorValue after;
    ASSERT_TRUE(change.resource_after().UnpackTo(&after));
    EXPECT_EQ(after.SerializeAsString(), value->SerializeAsString());
  }
}

// The newest revision is read from the value itself; a store written before
// that (its history holding the newest revision too) lists it once.
TEST_F(IndicatorTest, HistoryListsEachRevisionOnceNewestFirst) {
  const std::string name = V(kCommune1, "plan_2026", "I.1");
  ASSERT_EQ(Ingest({Row(name, "12", "row-0")}).applied(), 1);
  ASSERT_EQ(Ingest({Row(name, "13", "row-1")}).applied(), 1);
  std::vector<v1::ValueRevision> history = History(name);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].name(), name + "/revisions/2");
  EXPECT_EQ(history[0].value().number(), "13");
  EXPECT_EQ(history[1].name(), name + "/revisions/1");
  EXPECT_EQ(history[1].value().number(), "12");

  // As the old write path left it: the newest revision in the history too.
  const storage::Family family = store_->family("history");
  std::string newest_key;
  HTX_ASSERT_OK(store_->Scan(family, "", "", [&](absl::string_view key, absl::string_view) {
    if (newest_key.empty()) newest_key = std::string(key);  // revisions sort newest first
    return true;
  }));
  ASSERT_FALSE(newest_key.empty());
  // The scan found revision 1's key: the newest sorts before it.
  const std::string revision_2_key =
      newest_key.substr(0, newest_key.size() - 12) + "999999999997";
  ASSERT_LT(revision_2_key, newest_key);
  storage::WriteRequest old_style;
  old_style.mutate = [&](storage::Txn& txn) {
    txn.PutProto(family, revision_2_key, history[0]);
    return absl::OkStatus();
  };
  HTX_ASSERT_OK(store_->Write(std::move(old_style)));
  history = History(name);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].revision(), 2);
  EXPECT_EQ(history[1].revision(), 1);
}

}  // namespace
}  // namespace htx::indicator
