#include "services/registry/registry_logic.h"

#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/registry/text.h"

namespace htx::registry {
namespace {

using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;

type::v1::Date D(int y, int m, int d) { return FromDayKey(y * 10000 + m * 100 + d); }

OrganizationRecord Founded(v1::OrganizationKind kind, type::v1::Date founded,
                           v1::Sector sector = v1::SECTOR_AGRICULTURE) {
  OrganizationRecord record;
  v1::Organization& o = *record.mutable_organization();
  o.set_name("provinces/01/organizations/0100000001");
  o.set_kind(kind);
  o.set_sector(sector);
  *o.mutable_founding_date() = founded;
  v1::LifecycleEvent* established = record.add_events();
  established->set_type(v1::EVENT_TYPE_ESTABLISHED);
  *established->mutable_effective_date() = founded;
  established->set_status_after(v1::ORGANIZATION_STATUS_ACTIVE);
  return record;
}

v1::LifecycleEvent Event(v1::EventType type, type::v1::Date date) {
  v1::LifecycleEvent event;
  event.set_type(type);
  *event.mutable_effective_date() = date;
  if (type == v1::EVENT_TYPE_DISSOLVED) {
    event.set_dissolution_kind(v1::DISSOLUTION_KIND_VOLUNTARY);
  }
  return event;
}

TEST(DateTest, RejectsImpossibleDates) {
  HTX_ASSERT_OK(ValidateDate(D(2024, 2, 29), "d", true));
  EXPECT_THAT(ValidateDate(D(2025, 2, 29), "d", true), InvalidArgumentFor("d"));
  EXPECT_THAT(ValidateDate(D(2025, 13, 1), "d", true), InvalidArgumentFor("d"));
  EXPECT_THAT(ValidateDate(type::v1::Date(), "d", true), InvalidArgumentFor("d"));
  HTX_ASSERT_OK(ValidateDate(type::v1::Date(), "d", false));
}

TEST(NameTest, ParsesUnitsAndOrganisations) {
  auto commune = ParseUnitName("provinces/01/communes/00004", "name");
  ASSERT_TRUE(commune.ok());
  EXPECT_EQ(commune->province, "01");
  EXPECT_EQ(commune->collection, "communes");
  EXPECT_EQ(commune->id, "00004");
  EXPECT_THAT(ParseUnitName("provinces/1", "name"), InvalidArgumentFor("name"));
  EXPECT_THAT(ParseUnitName("provinces/01/communes/4", "name"), InvalidArgumentFor("name"));
  EXPECT_THAT(ParseUnitName("", "name"), InvalidArgumentFor("name"));
  EXPECT_TRUE(ParseOrganizationName("provinces/01/organizations/0101234567", "n").ok());
  EXPECT_THAT(ParseOrganizationName("provinces/01/organizations/lower", "n"),
              InvalidArgumentFor("n"));
  EXPECT_EQ(UnitParent("provinces/01/communes/00004"), "provinces/01");
  EXPECT_EQ(UnitParent("provinces/01"), "");
}

TEST(TransitionTest, FollowsTheLifecycle) {
  using S = v1::OrganizationStatus;
  struct Case {
    S from;
    v1::EventType type;
    S to;  // UNSPECIFIED = impossible
  } cases[] = {
      {v1::ORGANIZATION_STATUS_ACTIVE, v1::EVENT_TYPE_SUSPENDED, v1::ORGANIZATION_STATUS_SUSPENDED},
      {v1::ORGANIZATION_STATUS_SUSPENDED, v1::EVENT_TYPE_RESUMED, v1::ORGANIZATION_STATUS_ACTIVE},
      {v1::ORGANIZATION_STATUS_NOT_OPERATING, v1::EVENT_TYPE_RESUMED,
       v1::ORGANIZATION_STATUS_ACTIVE},
      {v1::ORGANIZATION_STATUS_ACTIVE, v1::EVENT_TYPE_RESUMED, v1::ORGANIZATION_STATUS_UNSPECIFIED},
      {v1::ORGANIZATION_STATUS_SUSPENDED, v1::EVENT_TYPE_SUSPENDED,
       v1::ORGANIZATION_STATUS_UNSPECIFIED},
      {v1::ORGANIZATION_STATUS_ACTIVE, v1::EVENT_TYPE_DISSOLUTION_STARTED,
       v1::ORGANIZATION_STATUS_DISSOLVING},
      {v1::ORGANIZATION_STATUS_DISSOLVING, v1::EVENT_TYPE_RESUMED,
       v1::ORGANIZATION_STATUS_UNSPECIFIED},
      {v1::ORGANIZATION_STATUS_DISSOLVING, v1::EVENT_TYPE_DISSOLVED,
       v1::ORGANIZATION_STATUS_DISSOLVED},
      {v1::ORGANIZATION_STATUS_NOT_OPERATING, v1::EVENT_TYPE_DISSOLVED,
       v1::ORGANIZATION_STATUS_DISSOLVED},
      {v1::ORGANIZATION_STATUS_DISSOLVED, v1::EVENT_TYPE_RESUMED,
       v1::ORGANIZATION_STATUS_UNSPECIFIED},
      {v1::ORGANIZATION_STATUS_DISSOLVED, v1::EVENT_TYPE_REORGANIZED,
       v1::ORGANIZATION_STATUS_UNSPECIFIED},
      {v1::ORGANIZATION_STATUS_SUSPENDED, v1::EVENT_TYPE_REORGANIZED,
       v1::ORGANIZATION_STATUS_SUSPENDED},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(v1::OrganizationStatus_Name(c.from) + " + " + v1::EventType_Name(c.type));
    auto to = Transition(c.from, c.type);
    if (c.to == v1::ORGANIZATION_STATUS_UNSPECIFIED) {
      EXPECT_THAT(to,
                  StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "INVALID_TRANSITION"));
    } else {
      ASSERT_TRUE(to.ok()) << to.status();
      EXPECT_EQ(*to, c.to);
    }
  }
}

TEST(AppendEventTest, RejectsEventsBeforeFoundingOrOutOfOrderAndChangesNothing) {
  OrganizationRecord record = Founded(v1::ORGANIZATION_KIND_HTX, D(2020, 5, 1));
  EXPECT_THAT(AppendEvent(record, Event(v1::EVENT_TYPE_SUSPENDED, D(2020, 4, 30)),
                          v1::ORGANIZATION_KIND_UNSPECIFIED),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "EVENT_BEFORE_FOUNDING"));
  HTX_ASSERT_OK(AppendEvent(record, Event(v1::EVENT_TYPE_SUSPENDED, D(2022, 1, 1)),
                            v1::ORGANIZATION_KIND_UNSPECIFIED));
  EXPECT_THAT(AppendEvent(record, Event(v1::EVENT_TYPE_RESUMED, D(2021, 1, 1)),
                          v1::ORGANIZATION_KIND_UNSPECIFIED),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "EVENT_OUT_OF_ORDER"));
  EXPECT_EQ(record.events_size(), 2);
  EXPECT_EQ(record.events(1).name(), "provinces/01/organizations/0100000001/events/2");
}

TEST(AppendEventTest, StatusOnAnyDateComesFromTheEvents) {
  OrganizationRecord record = Founded(v1::ORGANIZATION_KIND_HTX, D(2020, 5, 1));
  for (auto [type, date] : {std::pair{v1::EVENT_TYPE_SUSPENDED, D(2023, 3, 1)},
                            {v1::EVENT_TYPE_RESUMED, D(2024, 1, 10)},
                            {v1::EVENT_TYPE_DISSOLUTION_STARTED, D(2025, 5, 5)},
                            {v1::EVENT_TYPE_DISSOLVED, D(2025, 9, 9)}}) {
    HTX_ASSERT_OK(AppendEvent(record, Event(type, date), v1::ORGANIZATION_KIND_UNSPECIFIED));
  }
  EXPECT_EQ(StatusOn(record, 20200430), v1::ORGANIZATION_STATUS_UNSPECIFIED);
  EXPECT_EQ(StatusOn(record, 20200501), v1::ORGANIZATION_STATUS_ACTIVE);
  EXPECT_EQ(StatusOn(record, 20230630), v1::ORGANIZATION_STATUS_SUSPENDED);
  EXPECT_EQ(StatusOn(record, 20241231), v1::ORGANIZATION_STATUS_ACTIVE);
  EXPECT_EQ(StatusOn(record, 20250630), v1::ORGANIZATION_STATUS_DISSOLVING);
  EXPECT_EQ(StatusOn(record, 20251231), v1::ORGANIZATION_STATUS_DISSOLVED);
  EXPECT_EQ(DissolvedOn(record), 20250909);
  // Nothing comes back from dissolution.
  EXPECT_THAT(AppendEvent(record, Event(v1::EVENT_TYPE_RESUMED, D(2026, 1, 1)),
                          v1::ORGANIZATION_KIND_UNSPECIFIED),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(AppendEventTest, UnionMembershipRules) {
  OrganizationRecord htx = Founded(v1::ORGANIZATION_KIND_HTX, D(2020, 1, 1));
  v1::LifecycleEvent join = Event(v1::EVENT_TYPE_JOINED_UNION, D(2021, 1, 1));
  join.set_union_("provinces/01/organizations/0199999999");
  EXPECT_THAT(AppendEvent(htx, join, v1::ORGANIZATION_KIND_UNSPECIFIED),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(AppendEvent(htx, join, v1::ORGANIZATION_KIND_HTX),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "NOT_A_UNION"));
  HTX_ASSERT_OK(AppendEvent(htx, join, v1::ORGANIZATION_KIND_LH_HTX));
  EXPECT_THAT(AppendEvent(htx, join, v1::ORGANIZATION_KIND_LH_HTX),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_A_MEMBER"));
  EXPECT_EQ(UnionOn(htx, 20201231), "");
  EXPECT_EQ(UnionOn(htx, 20210101), join.union_());
  HTX_ASSERT_OK(AppendEvent(htx, Event(v1::EVENT_TYPE_LEFT_UNION, D(2022, 1, 1)),
                            v1::ORGANIZATION_KIND_UNSPECIFIED));
  EXPECT_EQ(htx.events().rbegin()->union_(), join.union_());
  EXPECT_EQ(UnionOn(htx, 20220101), "");

  OrganizationRecord group = Founded(v1::ORGANIZATION_KIND_THT, D(2020, 1, 1));
  EXPECT_THAT(AppendEvent(group, join, v1::ORGANIZATION_KIND_LH_HTX),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "NOT_AN_HTX"));
}

TEST(EventShapeTest, NamesTheFaultyField) {
  v1::LifecycleEvent event;
  EXPECT_THAT(ValidateEventShape(event, "event"), InvalidArgumentFor("event.type"));
  event.set_type(static_cast<v1::EventType>(42));
  EXPECT_THAT(ValidateEventShape(event, "event"), InvalidArgumentFor("event.type"));
  event = Event(v1::EVENT_TYPE_ESTABLISHED, D(2020, 1, 1));
  EXPECT_THAT(ValidateEventShape(event, "event"), InvalidArgumentFor("event.type"));
  event = Event(v1::EVENT_TYPE_SUSPENDED, type::v1::Date());
  EXPECT_THAT(ValidateEventShape(event, "event"), InvalidArgumentFor("event.effective_date"));
  event = Event(v1::EVENT_TYPE_DISSOLVED, D(2020, 1, 1));
  event.clear_dissolution_kind();
  EXPECT_THAT(ValidateEventShape(event, "event"), InvalidArgumentFor("event.dissolution_kind"));
  event = Event(v1::EVENT_TYPE_JOINED_UNION, D(2020, 1, 1));
  EXPECT_THAT(ValidateEventShape(event, "event"), InvalidArgumentFor("event.union"));
}

TEST(ClassificationTest, ScoreThresholdsOfCircular01) {
  EXPECT_EQ(RatingForScore(100), v1::RATING_GOOD);
  EXPECT_EQ(RatingForScore(80), v1::RATING_GOOD);
  EXPECT_EQ(RatingForScore(79), v1::RATING_FAIR);
  EXPECT_EQ(RatingForScore(65), v1::RATING_FAIR);
  EXPECT_EQ(RatingForScore(64), v1::RATING_AVERAGE);
  EXPECT_EQ(RatingForScore(50), v1::RATING_AVERAGE);
  EXPECT_EQ(RatingForScore(49), v1::RATING_WEAK);
  EXPECT_EQ(RatingForScore(0), v1::RATING_WEAK);
}

TEST(ClassificationTest, NotRatableUnderTwelveMonthsAndScoreMustAgree) {
  const DayKey today = 20261123;
  OrganizationRecord young = Founded(v1::ORGANIZATION_KIND_HTX, D(2025, 1, 2));
  v1::Classification c;
  c.set_year(2025);
  c.set_rating(v1::RATING_GOOD);
  EXPECT_THAT(SetClassification(young, c, today),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "NOT_RATABLE"));
  c.set_rating(v1::RATING_NOT_RATED);
  HTX_ASSERT_OK(SetClassification(young, c, today));

  OrganizationRecord old = Founded(v1::ORGANIZATION_KIND_HTX, D(2024, 12, 31));
  c.set_rating(v1::RATING_UNSPECIFIED);
  c.set_score(81);
  HTX_ASSERT_OK(SetClassification(old, c, today));
  EXPECT_EQ(old.organization().classifications(0).rating(), v1::RATING_GOOD);
  c.set_rating(v1::RATING_WEAK);
  EXPECT_THAT(SetClassification(old, c, today), InvalidArgumentFor("classification.rating"));
  c.clear_rating();
  c.set_score(101);
  EXPECT_THAT(SetClassification(old, c, today), InvalidArgumentFor("classification.score"));
  c.set_score(70);
  c.set_year(2027);
  EXPECT_THAT(SetClassification(old, c, today), InvalidArgumentFor("classification.year"));
  // Re-rating a year replaces it.
  c.set_year(2025);
  HTX_ASSERT_OK(SetClassification(old, c, today));
  ASSERT_EQ(old.organization().classifications_size(), 1);
  EXPECT_EQ(old.organization().classifications(0).rating(), v1::RATING_FAIR);
}

TEST(CountTest, StockFlowsRatingsAndUnionMembers) {
  OrganizationRecord a = Founded(v1::ORGANIZATION_KIND_HTX, D(2020, 1, 1));
  OrganizationRecord b = Founded(v1::ORGANIZATION_KIND_HTX, D(2024, 3, 1), v1::SECTOR_TRADE);
  OrganizationRecord c = Founded(v1::ORGANIZATION_KIND_HTX, D(2019, 1, 1));
  OrganizationRecord u = Founded(v1::ORGANIZATION_KIND_LH_HTX, D(2018, 1, 1));
  HTX_ASSERT_OK(AppendEvent(c, Event(v1::EVENT_TYPE_DISSOLVED, D(2024, 6, 1)),
                            v1::ORGANIZATION_KIND_UNSPECIFIED));
  HTX_ASSERT_OK(AppendEvent(a, Event(v1::EVENT_TYPE_SUSPENDED, D(2024, 7, 1)),
                            v1::ORGANIZATION_KIND_UNSPECIFIED));
  v1::LifecycleEvent join = Event(v1::EVENT_TYPE_JOINED_UNION, D(2024, 8, 1));
  join.set_union_("provinces/01/organizations/0199999999");
  HTX_ASSERT_OK(AppendEvent(b, join, v1::ORGANIZATION_KIND_LH_HTX));
  v1::Classification good;
  good.set_year(2024);
  good.set_rating(v1::RATING_GOOD);
  HTX_ASSERT_OK(SetClassification(a, good, 20261123));

  CountAccumulator counts(20241231, 20240101);
  for (const auto* record : {&a, &b, &c, &u}) counts.Add(*record);
  v1::Counts out;
  counts.Finish(&out);
  const v1::CountRow* htx_all = nullptr;
  const v1::CountRow* union_all = nullptr;
  for (const v1::CountRow& row : out.rows()) {
    if (row.sector() != v1::SECTOR_UNSPECIFIED) continue;
    if (row.kind() == v1::ORGANIZATION_KIND_HTX) htx_all = &row;
    if (row.kind() == v1::ORGANIZATION_KIND_LH_HTX) union_all = &row;
  }
  ASSERT_NE(htx_all, nullptr);
  ASSERT_NE(union_all, nullptr);
  EXPECT_EQ(htx_all->total(), 2);   // a and b; c is dissolved
  EXPECT_EQ(htx_all->active(), 1);  // b; a is suspended
  EXPECT_EQ(htx_all->suspended(), 1);
  EXPECT_EQ(htx_all->established(), 1);
  EXPECT_EQ(htx_all->dissolved(), 1);
  EXPECT_EQ(htx_all->rated_good(), 1);
  EXPECT_EQ(union_all->total(), 1);
  EXPECT_EQ(union_all->member_htx(), 1);
  // Stock and flow agree: last year's stock + established - dissolved.
  CountAccumulator before(20231231, 20230101);
  for (const auto* record : {&a, &b, &c, &u}) before.Add(*record);
  v1::Counts previous;
  before.Finish(&previous);
  int64_t previous_total = 0;
  for (const v1::CountRow& row : previous.rows()) {
    if (row.kind() == v1::ORGANIZATION_KIND_HTX && row.sector() == v1::SECTOR_UNSPECIFIED) {
      previous_total = row.total();
    }
  }
  EXPECT_EQ(previous_total + htx_all->established() - htx_all->dissolved(), htx_all->total());
}

TEST(FoldCaseTest, FoldsVietnameseLetters) {
  EXPECT_EQ(FoldCase("HỢP TÁC XÃ ĐÔNG ANH"), "hợp tác xã đông anh");
  EXPECT_EQ(FoldCase("Ư Ơ Ă Â Ê Ô"), "ư ơ ă â ê ô");
  EXPECT_EQ(FoldCase("abc 123"), "abc 123");
}

}  // namespace
}  // namespace htx::registry
