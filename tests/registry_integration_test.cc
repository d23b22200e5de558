// The registry over real gRPC: a server on port 0, a RocksDB store in a temp
// directory, every RPC, and the bad input each must refuse without writing.
#include <set>

#include "common/server/health_client.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/registry/registry_harness.h"

namespace htx::registry {
namespace {

using ::htx::testing::Context;
using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;

type::v1::Date D(int y, int m, int d) { return FromDayKey(y * 10000 + m * 100 + d); }

v1::Organization MakeOrganization(const std::string& code, const std::string& display,
                                  v1::OrganizationKind kind = v1::ORGANIZATION_KIND_HTX,
                                  const std::string& commune = "provinces/01/communes/00001") {
  v1::Organization o;
  o.set_registration_code(code);
  o.set_kind(kind);
  o.set_display_name(display);
  o.set_commune(commune);
  o.set_sector(v1::SECTOR_AGRICULTURE);
  *o.mutable_founding_date() = D(2020, 3, 15);
  o.set_members(30);
  o.set_regular_workers(8);
  return o;
}

class RegistryIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::ImportUnitsRequest request;
    *request.add_units() = MakeUnit("provinces/01", v1::UNIT_KIND_CITY, "Thành phố Hà Nội");
    *request.add_units() = MakeUnit("provinces/04", v1::UNIT_KIND_PROVINCE, "Cao Bằng");
    *request.add_units() =
        MakeUnit("provinces/01/communes/00001", v1::UNIT_KIND_WARD, "Phường mẫu 1");
    *request.add_units() =
        MakeUnit("provinces/01/communes/00002", v1::UNIT_KIND_COMMUNE, "Xã mẫu 2");
    *request.add_units() =
        MakeUnit("provinces/04/communes/01000", v1::UNIT_KIND_COMMUNE, "Xã mẫu Cao Bằng");
    *request.add_units() =
        MakeUnit("provinces/01/agencies/so-tai-chinh", v1::UNIT_KIND_AGENCY, "Sở Tài chính");
    v1::ImportUnitsResponse response;
    HTX_ASSERT_OK(stub().ImportUnits(Context().get(), request, &response));
    ASSERT_EQ(response.created(), 6);
  }

  v1::RegistryService::Stub& stub() { return harness_.stub(); }

  grpc::Status Create(const v1::Organization& organization, v1::Organization* out,
                      const std::string& request_id = "") {
    v1::CreateOrganizationRequest request;
    request.set_parent("provinces/01");
    *request.mutable_organization() = organization;
    request.set_request_id(request_id);
    return stub().CreateOrganization(Context().get(), request, out);
  }

  v1::Organization CreateOk(const v1::Organization& organization) {
    v1::Organization out;
    grpc::Status status = Create(organization, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  grpc::Status Append(const std::string& parent, v1::EventType type, type::v1::Date date,
                      v1::LifecycleEvent* out, const std::string& union_name = "") {
    v1::AppendEventRequest request;
    request.set_parent(parent);
    request.mutable_event()->set_type(type);
    *request.mutable_event()->mutable_effective_date() = date;
    if (type == v1::EVENT_TYPE_DISSOLVED) {
      request.mutable_event()->set_dissolution_kind(v1::DISSOLUTION_KIND_COMPULSORY);
    }
    request.mutable_event()->set_union_(union_name);
    return stub().AppendEvent(Context().get(), request, out);
  }

  v1::Organization Get(const std::string& name) {
    v1::GetOrganizationRequest request;
    request.set_name(name);
    v1::Organization out;
    grpc::Status status = stub().GetOrganization(Context().get(), request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  uint64_t LastSequence() {
    type::v1::ListChangesRequest request;
    type::v1::ListChangesResponse response;
    EXPECT_TRUE(stub().ListChanges(Context().get(), request, &response).ok());
    return response.last_sequence();
  }

  RegistryHarness harness_;
};

// ---- Units -----------------------------------------------------------------

TEST_F(RegistryIntegrationTest, UnitsAreListedUnderTheirParentAndPaged) {
  v1::ListUnitsRequest request;
  v1::ListUnitsResponse response;
  HTX_ASSERT_OK(stub().ListUnits(Context().get(), request, &response));
  ASSERT_EQ(response.units_size(), 2);
  EXPECT_EQ(response.units(0).name(), "provinces/01");
  EXPECT_EQ(response.units(1).name(), "provinces/04");

  request.set_parent("provinces/01");
  request.set_page_size(1);
  std::vector<std::string> names;
  do {
    HTX_ASSERT_OK(stub().ListUnits(Context().get(), request, &response));
    ASSERT_LE(response.units_size(), 1);
    for (const auto& unit : response.units()) names.push_back(unit.name());
    request.set_page_token(response.next_page_token());
  } while (!response.next_page_token().empty());
  EXPECT_EQ(names, (std::vector<std::string>{"provinces/01/agencies/so-tai-chinh",
                                             "provinces/01/communes/00001",
                                             "provinces/01/communes/00002"}));

  v1::ListUnitsRequest agencies;
  agencies.set_parent("provinces/01");
  agencies.set_kind(v1::UNIT_KIND_AGENCY);
  HTX_ASSERT_OK(stub().ListUnits(Context().get(), agencies, &response));
  ASSERT_EQ(response.units_size(), 1);
  EXPECT_EQ(response.units(0).display_name(), "Sở Tài chính");
}

TEST_F(RegistryIntegrationTest, PageTokenOfAnotherQueryIsRejected) {
  v1::ListUnitsRequest request;
  request.set_parent("provinces/01");
  request.set_page_size(1);
  v1::ListUnitsResponse response;
  HTX_ASSERT_OK(stub().ListUnits(Context().get(), request, &response));
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_kind(v1::UNIT_KIND_COMMUNE);
  request.set_page_token(response.next_page_token());
  EXPECT_THAT(stub().ListUnits(Context().get(), request, &response),
              InvalidArgumentFor("page_token"));
  request.set_page_token("garbage!");
  EXPECT_THAT(stub().ListUnits(Context().get(), request, &response),
              InvalidArgumentFor("page_token"));
  request.clear_page_token();
  request.set_page_size(-1);
  EXPECT_THAT(stub().ListUnits(Context().get(), request, &response),
              InvalidArgumentFor("page_size"));
}

TEST_F(RegistryIntegrationTest, MergedUnitsKeepValidityAndSuccessor) {
  v1::ImportUnitsRequest request;
  v1::Unit former = MakeUnit("provinces/02", v1::UNIT_KIND_PROVINCE, "Hà Giang");
  *former.mutable_valid_to() = D(2025, 6, 30);
  former.set_successor("provinces/08");
  v1::Unit merged = MakeUnit("provinces/08", v1::UNIT_KIND_PROVINCE, "Tuyên Quang");
  *merged.mutable_valid_from() = D(2025, 7, 1);
  merged.add_merged_from("Tuyên Quang");
  merged.add_merged_from("Hà Giang");
  *request.add_units() = former;  // its successor comes later in the batch
  *request.add_units() = merged;
  v1::ImportUnitsResponse response;
  HTX_ASSERT_OK(stub().ImportUnits(Context().get(), request, &response));

  v1::ListUnitsRequest list;
  list.set_kind(v1::UNIT_KIND_PROVINCE);
  *list.mutable_valid_on() = D(2025, 1, 1);
  v1::ListUnitsResponse listed;
  HTX_ASSERT_OK(stub().ListUnits(Context().get(), list, &listed));
  std::set<std::string> names;
  for (const auto& unit : listed.units()) names.insert(unit.name());
  EXPECT_EQ(names, (std::set<std::string>{"provinces/02", "provinces/04"}));
  *list.mutable_valid_on() = D(2025, 7, 1);
  HTX_ASSERT_OK(stub().ListUnits(Context().get(), list, &listed));
  names.clear();
  for (const auto& unit : listed.units()) names.insert(unit.name());
  EXPECT_EQ(names, (std::set<std::string>{"provinces/04", "provinces/08"}));
}

TEST_F(RegistryIntegrationTest, BadUnitImportsChangeNothing) {
  const uint64_t before = LastSequence();
  v1::ImportUnitsResponse response;
  v1::ImportUnitsRequest orphan;
  *orphan.add_units() = MakeUnit("provinces/12", v1::UNIT_KIND_PROVINCE, "Lai Châu");
  *orphan.add_units() =
      MakeUnit("provinces/99/communes/00001", v1::UNIT_KIND_COMMUNE, "Xã không tỉnh");
  EXPECT_THAT(stub().ImportUnits(Context().get(), orphan, &response),
              StatusIs(absl::StatusCode::kNotFound));

  v1::ImportUnitsRequest wrong_kind;
  *wrong_kind.add_units() = MakeUnit("provinces/12", v1::UNIT_KIND_COMMUNE, "Lai Châu");
  EXPECT_THAT(stub().ImportUnits(Context().get(), wrong_kind, &response),
              InvalidArgumentFor("units[0].kind"));

  v1::ImportUnitsRequest dangling;
  v1::Unit unit = MakeUnit("provinces/12", v1::UNIT_KIND_PROVINCE, "Lai Châu");
  unit.set_successor("provinces/77");
  *unit.mutable_valid_to() = D(2025, 6, 30);
  *dangling.add_units() = unit;
  EXPECT_THAT(stub().ImportUnits(Context().get(), dangling, &response),
              StatusIs(absl::StatusCode::kNotFound));

  v1::ImportUnitsRequest unnamed;
  *unnamed.add_units() = MakeUnit("", v1::UNIT_KIND_PROVINCE, "X");
  EXPECT_THAT(stub().ImportUnits(Context().get(), unnamed, &response),
              InvalidArgumentFor("units[0].name"));
  EXPECT_THAT(stub().ImportUnits(Context().get(), v1::ImportUnitsRequest(), &response),
              InvalidArgumentFor("units"));

  EXPECT_EQ(LastSequence(), before);
  v1::GetUnitRequest get;
  get.set_name("provinces/12");
  v1::Unit out;
  EXPECT_THAT(stub().GetUnit(Context().get(), get, &out), StatusIs(absl::StatusCode::kNotFound));
  get.set_name("tinh/12");
  EXPECT_THAT(stub().GetUnit(Context().get(), get, &out), InvalidArgumentFor("name"));
}

// ---- Organisations ---------------------------------------------------------

TEST_F(RegistryIntegrationTest, CreateThenGetDerivesStatusAndEstablishedEvent) {
  v1::Organization created = CreateOk(MakeOrganization("0100000001", "Hợp tác xã Đông Anh"));
  EXPECT_EQ(created.name(), "provinces/01/organizations/0100000001");
  EXPECT_EQ(created.status(), v1::ORGANIZATION_STATUS_ACTIVE);
  EXPECT_EQ(created.event_count(), 1);
  EXPECT_FALSE(created.etag().empty());
  v1::Organization got = Get(created.name());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());

  v1::ListEventsRequest events;
  events.set_parent(created.name());
  v1::ListEventsResponse listed;
  HTX_ASSERT_OK(stub().ListEvents(Context().get(), events, &listed));
  ASSERT_EQ(listed.events_size(), 1);
  EXPECT_EQ(listed.events(0).type(), v1::EVENT_TYPE_ESTABLISHED);
  EXPECT_EQ(ToDayKey(listed.events(0).effective_date()), 20200315);
}

TEST_F(RegistryIntegrationTest, EveryMissingOrInvalidFieldIsNamed) {
  const v1::Organization good = MakeOrganization("0100000002", "HTX Thử");
  struct Case {
    const char* field;
    std::function<void(v1::Organization&)> breaks;
  } cases[] = {
      {"organization.registration_code", [](auto& o) { o.clear_registration_code(); }},
      {"organization.registration_code", [](auto& o) { o.set_registration_code("lower case"); }},
      {"organization.kind", [](auto& o) { o.clear_kind(); }},
      {"organization.kind", [](auto& o) { o.set_kind(static_cast<v1::OrganizationKind>(99)); }},
      {"organization.display_name", [](auto& o) { o.set_display_name("   "); }},
      {"organization.commune", [](auto& o) { o.clear_commune(); }},
      {"organization.commune", [](auto& o) { o.set_commune("provinces/04/communes/01000"); }},
      {"organization.commune", [](auto& o) { o.set_commune("provinces/01"); }},
      {"organization.sector", [](auto& o) { o.clear_sector(); }},
      {"organization.sector", [](auto& o) { o.set_sector(static_cast<v1::Sector>(8)); }},
      {"organization.founding_date", [](auto& o) { o.clear_founding_date(); }},
      {"organization.founding_date", [](auto& o) { *o.mutable_founding_date() = D(2025, 2, 30); }},
      {"organization.founding_date", [](auto& o) { *o.mutable_founding_date() = D(2027, 1, 1); }},
      {"organization.members", [](auto& o) { o.set_members(-1); }},
      {"organization.managers_higher", [](auto& o) { o.set_managers_higher(-5); }},
  };
  const uint64_t before = LastSequence();
  for (const Case& c : cases) {
    v1::Organization bad = good;
    c.breaks(bad);
    v1::Organization out;
    EXPECT_THAT(Create(bad, &out), InvalidArgumentFor(c.field)) << bad.ShortDebugString();
  }
  v1::CreateOrganizationRequest request;
  *request.mutable_organization() = good;
  v1::Organization out;
  EXPECT_THAT(stub().CreateOrganization(Context().get(), request, &out),
              InvalidArgumentFor("parent"));
  request.set_parent("provinces/01/communes/00001");
  EXPECT_THAT(stub().CreateOrganization(Context().get(), request, &out),
              InvalidArgumentFor("parent"));
  request.set_parent("provinces/33");
  EXPECT_THAT(stub().CreateOrganization(Context().get(), request, &out),
              InvalidArgumentFor("organization.commune"));
  v1::Organization unknown_commune = good;
  unknown_commune.set_commune("provinces/01/communes/09999");
  EXPECT_THAT(Create(unknown_commune, &out), StatusIs(absl::StatusCode::kNotFound));
  request.set_parent("provinces/01");
  request.set_request_id(std::string(65, 'x'));
  EXPECT_THAT(stub().CreateOrganization(Context().get(), request, &out),
              InvalidArgumentFor("request_id"));
  EXPECT_EQ(LastSequence(), before);
}

TEST_F(RegistryIntegrationTest, DuplicateCreateIsAlreadyExistsButSameRequestIdReplays) {
  v1::Organization first, second, third;
  HTX_ASSERT_OK(Create(MakeOrganization("0100000003", "HTX A"), &first, "req-1"));
  const uint64_t after_first = LastSequence();
  HTX_ASSERT_OK(Create(MakeOrganization("0100000003", "HTX A"), &second, "req-1"));
  EXPECT_EQ(second.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(LastSequence(), after_first);
  EXPECT_THAT(Create(MakeOrganization("0100000003", "HTX A"), &third),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Create(MakeOrganization("0100000004", "HTX B"), &third, "req-1"),
              StatusIsWithReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_EQ(LastSequence(), after_first);
}

TEST_F(RegistryIntegrationTest, UpdateAppliesTheMaskAndChecksTheEtag) {
  v1::Organization created = CreateOk(MakeOrganization("0100000005", "HTX Cũ"));
  v1::UpdateOrganizationRequest request;
  *request.mutable_organization() = created;
  request.mutable_organization()->set_display_name("HTX Mới");
  request.mutable_organization()->set_commune("provinces/01/communes/00002");
  request.mutable_organization()->set_members(999);  // not in the mask: unchanged
  request.mutable_update_mask()->add_paths("display_name");
  request.mutable_update_mask()->add_paths("commune");
  v1::Organization updated;
  HTX_ASSERT_OK(stub().UpdateOrganization(Context().get(), request, &updated));
  EXPECT_EQ(updated.display_name(), "HTX Mới");
  EXPECT_EQ(updated.members(), created.members());
  EXPECT_NE(updated.etag(), created.etag());

  // The old etag is stale now.
  EXPECT_THAT(stub().UpdateOrganization(Context().get(), request, &updated),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  // The commune listing follows the move.
  v1::ListOrganizationsRequest list;
  list.set_parent("provinces/01/communes/00001");
  v1::ListOrganizationsResponse listed;
  HTX_ASSERT_OK(stub().ListOrganizations(Context().get(), list, &listed));
  EXPECT_EQ(listed.organizations_size(), 0);
  list.set_parent("provinces/01/communes/00002");
  HTX_ASSERT_OK(stub().ListOrganizations(Context().get(), list, &listed));
  ASSERT_EQ(listed.organizations_size(), 1);

  request.mutable_organization()->set_etag(updated.etag());
  request.mutable_update_mask()->add_paths("kind");
  EXPECT_THAT(stub().UpdateOrganization(Context().get(), request, &updated),
              InvalidArgumentFor("update_mask"));
  request.clear_update_mask();
  EXPECT_THAT(stub().UpdateOrganization(Context().get(), request, &updated),
              InvalidArgumentFor("update_mask"));
  request.mutable_update_mask()->add_paths("sector");
  request.mutable_organization()->set_sector(v1::SECTOR_UNSPECIFIED);
  EXPECT_THAT(stub().UpdateOrganization(Context().get(), request, &updated),
              InvalidArgumentFor("organization.sector"));
  request.mutable_organization()->set_name("provinces/01/organizations/0199999999");
  request.mutable_organization()->set_sector(v1::SECTOR_TRADE);
  EXPECT_THAT(stub().UpdateOrganization(Context().get(), request, &updated),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Get(created.name()).display_name(), "HTX Mới");
}

TEST_F(RegistryIntegrationTest, ImpossibleTransitionsAreRefusedAndChangeNothing) {
  const std::string name = CreateOk(MakeOrganization("0100000006", "HTX C")).name();
  v1::LifecycleEvent event;
  HTX_ASSERT_OK(Append(name, v1::EVENT_TYPE_SUSPENDED, D(2023, 1, 1), &event));
  EXPECT_EQ(event.name(), name + "/events/2");
  EXPECT_EQ(event.status_after(), v1::ORGANIZATION_STATUS_SUSPENDED);
  HTX_ASSERT_OK(Append(name, v1::EVENT_TYPE_DISSOLVED, D(2024, 1, 1), &event));
  const v1::Organization dissolved = Get(name);
  EXPECT_EQ(dissolved.status(), v1::ORGANIZATION_STATUS_DISSOLVED);

  EXPECT_THAT(Append(name, v1::EVENT_TYPE_RESUMED, D(2024, 6, 1), &event),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "INVALID_TRANSITION"));
  EXPECT_THAT(Append(name, v1::EVENT_TYPE_REPORTED_NOT_OPERATING, D(2023, 6, 1), &event),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  const std::string young = CreateOk(MakeOrganization("0100000007", "HTX D")).name();
  EXPECT_THAT(Append(young, v1::EVENT_TYPE_SUSPENDED, D(2019, 1, 1), &event),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "EVENT_BEFORE_FOUNDING"));
  EXPECT_THAT(Append(young, v1::EVENT_TYPE_UNSPECIFIED, D(2021, 1, 1), &event),
              InvalidArgumentFor("event.type"));
  EXPECT_THAT(Append("provinces/01/organizations/0100009999", v1::EVENT_TYPE_SUSPENDED,
                     D(2021, 1, 1), &event),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Append("orgs/1", v1::EVENT_TYPE_SUSPENDED, D(2021, 1, 1), &event),
              InvalidArgumentFor("parent"));
  EXPECT_EQ(Get(name).SerializeAsString(), dissolved.SerializeAsString());
  EXPECT_EQ(Get(young).event_count(), 1);
}

TEST_F(RegistryIntegrationTest, HtxJoinsAUnionAndCountsSeeIt) {
  const std::string union_name =
      CreateOk(MakeOrganization("0100000010", "Liên hiệp HTX", v1::ORGANIZATION_KIND_LH_HTX))
          .name();
  const std::string member = CreateOk(MakeOrganization("0100000011", "HTX thành viên")).name();
  const std::string other = CreateOk(MakeOrganization("0100000012", "HTX khác")).name();
  v1::LifecycleEvent event;
  HTX_ASSERT_OK(Append(member, v1::EVENT_TYPE_JOINED_UNION, D(2024, 5, 1), &event, union_name));
  EXPECT_THAT(Append(other, v1::EVENT_TYPE_JOINED_UNION, D(2024, 5, 1), &event, member),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "NOT_A_UNION"));
  EXPECT_EQ(Get(member).union_membership(), union_name);
  v1::Organization late =
      MakeOrganization("0100000013", "LH HTX mới", v1::ORGANIZATION_KIND_LH_HTX);
  *late.mutable_founding_date() = D(2025, 1, 1);
  const std::string late_union = CreateOk(late).name();
  EXPECT_THAT(Append(other, v1::EVENT_TYPE_JOINED_UNION, D(2024, 5, 1), &event, late_union),
              StatusIsWithReason(absl::StatusCode::kFailedPrecondition, "UNION_NOT_FOUNDED"));

  v1::GetCountsRequest counts_request;
  counts_request.set_unit("provinces/01");
  *counts_request.mutable_as_of() = D(2024, 12, 31);
  v1::Counts counts;
  HTX_ASSERT_OK(stub().GetCounts(Context().get(), counts_request, &counts));
  int64_t member_htx = -1, htx_total = -1;
  for (const auto& row : counts.rows()) {
    if (row.sector() != v1::SECTOR_UNSPECIFIED) continue;
    if (row.kind() == v1::ORGANIZATION_KIND_LH_HTX) member_htx = row.member_htx();
    if (row.kind() == v1::ORGANIZATION_KIND_HTX) htx_total = row.total();
  }
  EXPECT_EQ(member_htx, 1);
  EXPECT_EQ(htx_total, 2);
  *counts_request.mutable_as_of() = D(2024, 4, 30);
  HTX_ASSERT_OK(stub().GetCounts(Context().get(), counts_request, &counts));
  for (const auto& row : counts.rows()) {
    if (row.kind() == v1::ORGANIZATION_KIND_LH_HTX && row.sector() == v1::SECTOR_UNSPECIFIED) {
      EXPECT_EQ(row.member_htx(), 0);
    }
  }
}

TEST_F(RegistryIntegrationTest, ClassificationFollowsCircular01) {
  const v1::Organization created = CreateOk(MakeOrganization("0100000020", "HTX E"));
  v1::SetClassificationRequest request;
  request.set_name(created.name());
  request.mutable_classification()->set_year(2024);
  request.mutable_classification()->set_score(72);
  request.set_etag(created.etag());
  v1::Organization rated;
  HTX_ASSERT_OK(stub().SetClassification(Context().get(), request, &rated));
  ASSERT_EQ(rated.classifications_size(), 1);
  EXPECT_EQ(rated.classifications(0).rating(), v1::RATING_FAIR);
  // Same etag again: stale.
  EXPECT_THAT(stub().SetClassification(Context().get(), request, &rated),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
  request.clear_etag();
  request.mutable_classification()->set_rating(v1::RATING_GOOD);
  EXPECT_THAT(stub().SetClassification(Context().get(), request, &rated),
              InvalidArgumentFor("classification.rating"));
  request.clear_classification();
  EXPECT_THAT(stub().SetClassification(Context().get(), request, &rated),
              InvalidArgumentFor("classification"));
}

TEST_F(RegistryIntegrationTest, ListFiltersAndPagesWithoutGapsOrRepeats) {
  for (int i = 0; i < 25; ++i) {
    v1::Organization o = MakeOrganization(absl::StrCat("01100000", i < 10 ? "0" : "", i),
                                          i % 2 ? "Hợp tác xã ĐÔNG Anh" : "HTX Sóc Sơn");
    o.set_sector(i % 3 ? v1::SECTOR_AGRICULTURE : v1::SECTOR_TRADE);
    o.set_commune(i % 5 ? "provinces/01/communes/00001" : "provinces/01/communes/00002");
    CreateOk(o);
  }
  auto list_all = [&](v1::ListOrganizationsRequest request) {
    std::vector<std::string> names;
    request.set_page_size(4);
    v1::ListOrganizationsResponse response;
    do {
      grpc::Status status = stub().ListOrganizations(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      EXPECT_LE(response.organizations_size(), 4);
      for (const auto& o : response.organizations()) names.push_back(o.name());
      request.set_page_token(response.next_page_token());
    } while (!response.next_page_token().empty());
    return names;
  };
  v1::ListOrganizationsRequest request;
  request.set_parent("provinces/01");
  std::vector<std::string> all = list_all(request);
  EXPECT_EQ(all.size(), 25u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 25u);

  request.set_sector(v1::SECTOR_TRADE);
  EXPECT_EQ(list_all(request).size(), 9u);  // i = 0, 3, ..., 24
  request.clear_sector();
  request.set_name_contains("đông anh");  // case-insensitive, diacritics kept
  EXPECT_EQ(list_all(request).size(), 12u);
  request.clear_name_contains();
  request.set_parent("provinces/01/communes/00002");
  EXPECT_EQ(list_all(request).size(), 5u);
  request.set_parent("");
  request.set_status(v1::ORGANIZATION_STATUS_SUSPENDED);
  EXPECT_EQ(list_all(request).size(), 0u);

  v1::ListOrganizationsResponse response;
  request.set_parent("provinces/01/agencies/so-tai-chinh");
  EXPECT_THAT(stub().ListOrganizations(Context().get(), request, &response),
              InvalidArgumentFor("parent"));
  request.set_parent("provinces/05");
  EXPECT_THAT(stub().ListOrganizations(Context().get(), request, &response),
              StatusIs(absl::StatusCode::kNotFound));
  request.set_parent("provinces/01");
  request.set_kind(static_cast<v1::OrganizationKind>(7));
  EXPECT_THAT(stub().ListOrganizations(Context().get(), request, &response),
              InvalidArgumentFor("kind"));
}

TEST_F(RegistryIntegrationTest, CountsByKindSectorStatusAndFlows) {
  const std::string a = CreateOk(MakeOrganization("0100000030", "HTX 1")).name();
  v1::Organization trade = MakeOrganization("0100000031", "HTX 2");
  trade.set_sector(v1::SECTOR_TRADE);
  *trade.mutable_founding_date() = D(2024, 2, 1);
  trade.set_commune("provinces/01/communes/00002");
  CreateOk(trade);
  v1::LifecycleEvent event;
  HTX_ASSERT_OK(Append(a, v1::EVENT_TYPE_REPORTED_NOT_OPERATING, D(2024, 3, 1), &event));

  v1::GetCountsRequest request;
  request.set_unit("provinces/01");
  *request.mutable_as_of() = D(2024, 12, 31);
  v1::Counts counts;
  HTX_ASSERT_OK(stub().GetCounts(Context().get(), request, &counts));
  EXPECT_EQ(ToDayKey(counts.period_start()), 20240101);
  std::map<int, v1::CountRow> htx;
  for (const auto& row : counts.rows()) {
    if (row.kind() == v1::ORGANIZATION_KIND_HTX) htx[row.sector()] = row;
  }
  EXPECT_EQ(htx[0].total(), 2);
  EXPECT_EQ(htx[0].active(), 1);
  EXPECT_EQ(htx[0].not_operating(), 1);
  EXPECT_EQ(htx[0].established(), 1);
  EXPECT_EQ(htx[0].members(), 60);
  EXPECT_EQ(htx[v1::SECTOR_TRADE].total(), 1);
  EXPECT_EQ(htx[v1::SECTOR_AGRICULTURE].total(), 1);

  request.set_unit("provinces/01/communes/00002");
  HTX_ASSERT_OK(stub().GetCounts(Context().get(), request, &counts));
  for (const auto& row : counts.rows()) {
    if (row.kind() == v1::ORGANIZATION_KIND_HTX && row.sector() == v1::SECTOR_UNSPECIFIED) {
      EXPECT_EQ(row.total(), 1);
    }
  }
  request.set_unit("");
  *request.mutable_as_of() = D(2023, 12, 31);
  HTX_ASSERT_OK(stub().GetCounts(Context().get(), request, &counts));
  for (const auto& row : counts.rows()) {
    if (row.kind() == v1::ORGANIZATION_KIND_HTX && row.sector() == v1::SECTOR_UNSPECIFIED) {
      EXPECT_EQ(row.total(), 1);
    }
  }

  request.clear_as_of();
  EXPECT_THAT(stub().GetCounts(Context().get(), request, &counts), InvalidArgumentFor("as_of"));
  *request.mutable_as_of() = D(2024, 12, 31);
  *request.mutable_period_start() = D(2025, 1, 1);
  EXPECT_THAT(stub().GetCounts(Context().get(), request, &counts),
              InvalidArgumentFor("period_start"));
  request.clear_period_start();
  request.set_unit("provinces/77");
  EXPECT_THAT(stub().GetCounts(Context().get(), request, &counts),
              StatusIs(absl::StatusCode::kNotFound));
}

// ---- Bulk import and the change feed ----------------------------------------

TEST_F(RegistryIntegrationTest, ImportStreamKeepsGoodRowsAndReportsBadOnes) {
  auto context = Context(30);
  auto stream = stub().ImportRegistry(context.get());
  v1::ImportRegistryRequest batch;
  auto add_org = [&](const std::string& code, const std::string& id) {
    v1::ImportRow* row = batch.add_rows();
    *row->mutable_organization() = MakeOrganization(code, "HTX nhập " + code);
    row->set_request_id(id);
  };
  add_org("0100000040", "row-1");
  add_org("0100000041", "row-2");
  add_org("bad code", "row-3");             // invalid
  add_org("0100000042", "");                // no request_id
  v1::ImportRow* event = batch.add_rows();  // refers to row-1, same batch
  event->set_parent("provinces/01/organizations/0100000040");
  event->mutable_event()->set_type(v1::EVENT_TYPE_SUSPENDED);
  *event->mutable_event()->mutable_effective_date() = D(2022, 1, 1);
  event->set_request_id("row-5");
  v1::ImportRow* impossible = batch.add_rows();  // resuming an active one
  impossible->set_parent("provinces/01/organizations/0100000041");
  impossible->mutable_event()->set_type(v1::EVENT_TYPE_RESUMED);
  *impossible->mutable_event()->mutable_effective_date() = D(2022, 1, 1);
  impossible->set_request_id("row-6");
  ASSERT_TRUE(stream->Write(batch));
  v1::ImportRegistryResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 6);
  EXPECT_EQ(response.applied(), 3);
  EXPECT_EQ(response.rejected(), 3);
  EXPECT_EQ(response.results(0).resource(), "provinces/01/organizations/0100000040");
  EXPECT_EQ(response.results(2).outcome(), type::v1::RowResult::OUTCOME_REJECTED);
  EXPECT_EQ(response.results(2).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(response.results(2).message().find("rows[2].organization.registration_code"),
            std::string::npos);
  EXPECT_NE(response.results(3).message().find("rows[3].request_id"), std::string::npos);
  EXPECT_EQ(response.results(4).resource(), "provinces/01/organizations/0100000040/events/2");
  EXPECT_EQ(response.results(5).code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Re-sending the batch applies nothing twice.
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.applied(), 0);
  EXPECT_EQ(response.already_applied(), 3);
  EXPECT_EQ(response.results(4).outcome(), type::v1::RowResult::OUTCOME_ALREADY_APPLIED);
  EXPECT_EQ(response.results(4).index(), 4);
  ASSERT_TRUE(stream->WritesDone());
  HTX_ASSERT_OK(stream->Finish());
  EXPECT_EQ(Get("provinces/01/organizations/0100000040").status(),
            v1::ORGANIZATION_STATUS_SUSPENDED);
}

TEST_F(RegistryIntegrationTest, OversizedImportBatchFailsTheStream) {
  auto context = Context(30);
  auto stream = stub().ImportRegistry(context.get());
  v1::ImportRegistryRequest batch;
  for (int i = 0; i < 1001; ++i) batch.add_rows()->set_request_id(absl::StrCat("r", i));
  ASSERT_TRUE(stream->Write(batch));
  v1::ImportRegistryResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_THAT(stream->Finish(), InvalidArgumentFor("rows"));
}

TEST_F(RegistryIntegrationTest, ChangeFeedListsEveryWriteInOrder) {
  const uint64_t start = LastSequence();
  EXPECT_EQ(start, 6u);  // the six units of SetUp
  const std::string name = CreateOk(MakeOrganization("0100000050", "HTX F")).name();
  v1::LifecycleEvent event;
  HTX_ASSERT_OK(Append(name, v1::EVENT_TYPE_SUSPENDED, D(2021, 1, 1), &event));
  type::v1::ListChangesRequest request;
  request.set_after_sequence(start - 1);
  request.set_page_size(2);
  type::v1::ListChangesResponse response;
  HTX_ASSERT_OK(stub().ListChanges(Context().get(), request, &response));
  ASSERT_EQ(response.changes_size(), 2);
  EXPECT_EQ(response.changes(0).sequence(), start);
  EXPECT_EQ(response.changes(1).resource(), name);
  EXPECT_EQ(response.changes(1).kind(), type::v1::CHANGE_KIND_CREATED);
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_page_token(response.next_page_token());
  HTX_ASSERT_OK(stub().ListChanges(Context().get(), request, &response));
  ASSERT_EQ(response.changes_size(), 1);
  EXPECT_EQ(response.changes(0).sequence(), start + 2);
  EXPECT_EQ(response.changes(0).kind(), type::v1::CHANGE_KIND_UPDATED);
  v1::Organization after;
  ASSERT_TRUE(response.changes(0).resource_after().UnpackTo(&after));
  EXPECT_EQ(after.status(), v1::ORGANIZATION_STATUS_SUSPENDED);
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(RegistryIntegrationTest, ReadsRefuseBadNamesAndPageEventsAndChanges) {
  v1::GetOrganizationRequest get;
  v1::Organization organization;
  get.set_name("provinces/01/organizations/");
  EXPECT_THAT(stub().GetOrganization(Context().get(), get, &organization),
              InvalidArgumentFor("name"));
  get.set_name("provinces/01/organizations/0100000999");
  EXPECT_THAT(stub().GetOrganization(Context().get(), get, &organization),
              StatusIs(absl::StatusCode::kNotFound));

  const std::string name = CreateOk(MakeOrganization("0100000060", "HTX G")).name();
  v1::AppendEventRequest append;
  append.set_parent(name);
  append.mutable_event()->set_type(v1::EVENT_TYPE_SUSPENDED);
  *append.mutable_event()->mutable_effective_date() = D(2021, 1, 1);
  append.set_request_id("suspend-once");
  v1::LifecycleEvent first, again;
  HTX_ASSERT_OK(stub().AppendEvent(Context().get(), append, &first));
  HTX_ASSERT_OK(stub().AppendEvent(Context().get(), append, &again));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  v1::LifecycleEvent event;
  HTX_ASSERT_OK(Append(name, v1::EVENT_TYPE_RESUMED, D(2022, 1, 1), &event));

  v1::ListEventsRequest events;
  events.set_parent(name);
  events.set_page_size(2);
  v1::ListEventsResponse page;
  HTX_ASSERT_OK(stub().ListEvents(Context().get(), events, &page));
  ASSERT_EQ(page.events_size(), 2);
  ASSERT_FALSE(page.next_page_token().empty());
  events.set_page_token(page.next_page_token());
  HTX_ASSERT_OK(stub().ListEvents(Context().get(), events, &page));
  ASSERT_EQ(page.events_size(), 1);  // the suspension was written once
  EXPECT_EQ(page.events(0).type(), v1::EVENT_TYPE_RESUMED);
  EXPECT_TRUE(page.next_page_token().empty());
  events.set_parent("provinces/01/organizations/0100000061");
  EXPECT_THAT(stub().ListEvents(Context().get(), events, &page), InvalidArgumentFor("page_token"));
  events.clear_page_token();
  EXPECT_THAT(stub().ListEvents(Context().get(), events, &page),
              StatusIs(absl::StatusCode::kNotFound));
  events.set_parent("provinces/01");
  EXPECT_THAT(stub().ListEvents(Context().get(), events, &page), InvalidArgumentFor("parent"));

  type::v1::ListChangesRequest changes;
  changes.set_page_size(1);
  type::v1::ListChangesResponse feed;
  HTX_ASSERT_OK(stub().ListChanges(Context().get(), changes, &feed));
  changes.set_page_token(feed.next_page_token());
  changes.set_after_sequence(3);
  EXPECT_THAT(stub().ListChanges(Context().get(), changes, &feed),
              InvalidArgumentFor("page_token"));
}

// ---- Readiness ----------------------------------------------------------------

TEST(RegistryReadinessTest, NotServingUntilTheStoreIsAttached) {
  RegistryHarness harness(RegistryHarness::Options{TestNow(), /*attach=*/false});
  auto health =
      server::CheckHealth(harness.channel(), "htx.registry.v1.RegistryService", absl::Seconds(5));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, server::Health::kNotServing);
  v1::GetUnitRequest request;
  request.set_name("provinces/01");
  v1::Unit unit;
  EXPECT_THAT(harness.stub().GetUnit(Context().get(), request, &unit),
              StatusIs(absl::StatusCode::kUnavailable));
  harness.Attach();
  health = server::CheckHealth(harness.channel(), "", absl::Seconds(5));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(*health, server::Health::kServing);
  EXPECT_THAT(harness.stub().GetUnit(Context().get(), request, &unit),
              StatusIs(absl::StatusCode::kNotFound));
  health = server::CheckHealth(harness.channel(), "no.such.Service", absl::Seconds(5));
  EXPECT_THAT(health, StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace htx::registry
