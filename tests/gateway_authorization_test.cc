// The authorization matrix, end to end through the gateway to the registry:
// every role × its own area / another area / the area above × every unary
// method of the registry, each cell asserting OK (the call went through and
// the registry did it) or PERMISSION_DENIED. The expectations are written out
// below, independently of the policy code they check.
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/gateway/gateway_harness.h"
#include "tests/gateway_test_data.h"

namespace htx::gateway {
namespace {

using ::htx::testing::Context;

enum class Relation { kOwn, kOther, kAbove };
const char* RelationName(Relation r) {
  return r == Relation::kOwn ? "own" : r == Relation::kOther ? "other" : "above";
}

// Where a cell's request points: a unit, and for calls about one
// organisation or a new one, the commune they belong to.
struct Target {
  std::string unit;     // "" = the nation
  std::string commune;  // "" when the unit is above any commune
};

struct Principal {
  auth::Role role;
  std::string scope;
  std::map<Relation, Target> targets;
};

const std::vector<Principal>& Principals() {
  static const auto* principals = new std::vector<Principal>{
      {auth::v1::ROLE_MINISTRY_ADMIN, "", {{Relation::kOwn, {"", kOwnCommune}}}},
      {auth::v1::ROLE_PROVINCE_EDITOR,
       kHanoi,
       {{Relation::kOwn, {kHanoi, kOwnCommune}},
        {Relation::kOther, {kHcmc, kHcmcCommune}},
        {Relation::kAbove, {"", ""}}}},
      {auth::v1::ROLE_PROVINCE_APPROVER,
       kHanoi,
       {{Relation::kOwn, {kHanoi, kOwnCommune}},
        {Relation::kOther, {kHcmc, kHcmcCommune}},
        {Relation::kAbove, {"", ""}}}},
      {auth::v1::ROLE_COMMUNE_EDITOR,
       kOwnCommune,
       {{Relation::kOwn, {kOwnCommune, kOwnCommune}},
        {Relation::kOther, {kOtherCommune, kOtherCommune}},
        {Relation::kAbove, {kHanoi, ""}}}},
      {auth::v1::ROLE_DEPARTMENT_INTEGRATION,
       kHanoi,
       {{Relation::kOwn, {kHanoi, kOwnCommune}},
        {Relation::kOther, {kHcmc, kHcmcCommune}},
        {Relation::kAbove, {"", ""}}}},
      {auth::v1::ROLE_AUDITOR,
       kHanoi,
       {{Relation::kOwn, {kHanoi, kOwnCommune}},
        {Relation::kOther, {kHcmc, kHcmcCommune}},
        {Relation::kAbove, {"", ""}}}},
  };
  return *principals;
}

// What the department's credential grants.
const std::vector<std::string> kDepartmentGrants = {
    "/htx.registry.v1.RegistryService/GetOrganization",
    "/htx.registry.v1.RegistryService/ListOrganizations",
    "/htx.registry.v1.RegistryService/CreateOrganization",
};

enum class Kind { kRead, kWrite, kAdmin };

// The expected answer of a cell: nobody acts outside their scope; inside it,
// reads are for everyone, writes for editors and the ministry, administration
// for the ministry, and a department only for what it was granted.
bool Allowed(auth::Role role, Kind kind, Relation relation, const std::string& method) {
  if (relation != Relation::kOwn) return false;
  switch (role) {
    case auth::v1::ROLE_MINISTRY_ADMIN:
      return true;
    case auth::v1::ROLE_PROVINCE_EDITOR:
    case auth::v1::ROLE_COMMUNE_EDITOR:
      return kind != Kind::kAdmin;
    case auth::v1::ROLE_PROVINCE_APPROVER:
    case auth::v1::ROLE_AUDITOR:
      return kind == Kind::kRead;
    case auth::v1::ROLE_DEPARTMENT_INTEGRATION:
      return kind != Kind::kAdmin && std::find(kDepartmentGrants.begin(), kDepartmentGrants.end(),
                                               method) != kDepartmentGrants.end();
    default:
      return false;
  }
}

class AuthorizationMatrixTest : public ::testing::Test {
 public:
  AuthorizationMatrixTest() { SeedRegistry(harness_.registry()); }

  // A new organisation in `commune`, made directly in the registry, for calls
  // that change one (so that every cell starts from the same state).
  std::string FreshOrganization(const std::string& commune) {
    // Numbered apart from the seeded organisations and from NewCode's.
    const std::string code =
        absl::StrFormat("%s%08d", commune.substr(10, 2), 10000000 + ++organizations_);
    rv1::Organization created;
    HTX_EXPECT_OK(harness_.registry().stub().CreateOrganization(
        Context().get(), CreateRequest(code, commune), &created));
    return created.name();
  }

  // The organisation of `commune` seeded by SeedRegistry.
  static std::string SeededOrganization(const std::string& commune) {
    if (commune == kOwnCommune) return kOwnOrganization;
    if (commune == kOtherCommune) return kOtherOrganization;
    return kHcmcOrganization;
  }

  std::string NewCode(const std::string& commune) {
    return absl::StrFormat("%s%08d", commune.substr(10, 2), 50000000 + ++organizations_);
  }

 protected:
  GatewayHarness harness_;
  int organizations_ = 0;
};

// Which targets a method can point at at all.
enum class Applies {
  kAnyArea,       // the nation, a province or a commune
  kNamedUnit,     // a province or a commune (the nation has no unit to get)
  kAboveCommune,  // the nation or a province (communes have no child units)
  kCommune,       // calls about organisations, which belong to a commune
};

bool Constructible(Applies applies, const Target& target) {
  const bool commune_level = target.unit.find("/communes/") != std::string::npos;
  switch (applies) {
    case Applies::kAnyArea:
      return true;
    case Applies::kNamedUnit:
      return !target.unit.empty();
    case Applies::kAboveCommune:
      return !commune_level;
    case Applies::kCommune:
      return !target.commune.empty();
  }
  return false;
}

struct Method {
  std::string name;
  Kind kind;
  Applies applies;
  // Calls the method through `stub` about `target`.
  std::function<grpc::Status(AuthorizationMatrixTest&, rv1::RegistryService::Stub&,
                             grpc::ClientContext*, const Target&)>
      call;
};

std::vector<Method> Methods() {
  using Stub = rv1::RegistryService::Stub;
  using T = AuthorizationMatrixTest;
  return {
      {"GetUnit", Kind::kRead, Applies::kNamedUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::GetUnitRequest r;
         r.set_name(t.unit);
         rv1::Unit out;
         return s.GetUnit(c, r, &out);
       }},
      {"ListUnits", Kind::kRead, Applies::kAboveCommune,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::ListUnitsRequest r;
         r.set_parent(t.unit);
         rv1::ListUnitsResponse out;
         return s.ListUnits(c, r, &out);
       }},
      {"ImportUnits", Kind::kAdmin, Applies::kNamedUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::ImportUnitsRequest r;
         const std::string& unit = t.unit;
         *r.add_units() =
             registry::MakeUnit(unit,
                                unit.find("/communes/") != std::string::npos ? rv1::UNIT_KIND_WARD
                                                                             : rv1::UNIT_KIND_CITY,
                                "Đơn vị " + unit);
         rv1::ImportUnitsResponse out;
         return s.ImportUnits(c, r, &out);
       }},
      {"CreateOrganization", Kind::kWrite, Applies::kCommune,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target& target) {
         T& m = t;
         rv1::Organization out;
         return s.CreateOrganization(c, CreateRequest(m.NewCode(target.commune), target.commune),
                                     &out);
       }},
      {"GetOrganization", Kind::kRead, Applies::kCommune,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::GetOrganizationRequest r;
         r.set_name(T::SeededOrganization(t.commune));
         rv1::Organization out;
         return s.GetOrganization(c, r, &out);
       }},
      {"ListOrganizations", Kind::kRead, Applies::kAnyArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::ListOrganizationsRequest r;
         r.set_parent(t.unit);
         rv1::ListOrganizationsResponse out;
         return s.ListOrganizations(c, r, &out);
       }},
      {"UpdateOrganization", Kind::kWrite, Applies::kCommune,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target& target) {
         rv1::UpdateOrganizationRequest r;
         r.mutable_organization()->set_name(t.FreshOrganization(target.commune));
         r.mutable_organization()->set_members(41);
         r.mutable_update_mask()->add_paths("members");
         rv1::Organization out;
         return s.UpdateOrganization(c, r, &out);
       }},
      {"AppendEvent", Kind::kWrite, Applies::kCommune,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target& target) {
         rv1::AppendEventRequest r;
         r.set_parent(t.FreshOrganization(target.commune));
         r.mutable_event()->set_type(rv1::EVENT_TYPE_SUSPENDED);
         *r.mutable_event()->mutable_effective_date() = registry::FromDayKey(20250601);
         rv1::LifecycleEvent out;
         return s.AppendEvent(c, r, &out);
       }},
      {"ListEvents", Kind::kRead, Applies::kCommune,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::ListEventsRequest r;
         r.set_parent(T::SeededOrganization(t.commune));
         rv1::ListEventsResponse out;
         return s.ListEvents(c, r, &out);
       }},
      {"SetClassification", Kind::kWrite, Applies::kCommune,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target& target) {
         rv1::SetClassificationRequest r;
         r.set_name(t.FreshOrganization(target.commune));
         r.mutable_classification()->set_year(2024);
         r.mutable_classification()->set_score(72);
         rv1::Organization out;
         return s.SetClassification(c, r, &out);
       }},
      {"GetCounts", Kind::kRead, Applies::kAnyArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         rv1::GetCountsRequest r;
         r.set_unit(t.unit);
         *r.mutable_as_of() = registry::FromDayKey(20251231);
         rv1::Counts out;
         return s.GetCounts(c, r, &out);
       }},
  };
}

TEST_F(AuthorizationMatrixTest, EveryRoleAreaAndMethod) {
  auto stub = rv1::RegistryService::NewStub(harness_.channel());
  int cells = 0;
  for (const Principal& principal : Principals()) {
    const std::string token = harness_.Token(principal.role, principal.scope,
                                             principal.role == auth::v1::ROLE_DEPARTMENT_INTEGRATION
                                                 ? kDepartmentGrants
                                                 : std::vector<std::string>{});
    for (const Method& method : Methods()) {
      const std::string full = absl::StrCat("/htx.registry.v1.RegistryService/", method.name);
      for (const auto& [relation, target] : principal.targets) {
        if (!Constructible(method.applies, target)) continue;  // no such request
        const bool allowed = Allowed(principal.role, method.kind, relation, full);
        grpc::Status status =
            method.call(*this, *stub, GatewayHarness::WithToken(token).get(), target);
        const std::string cell =
            absl::StrCat(auth::RoleName(principal.role), " @ \"", principal.scope, "\" × ",
                         RelationName(relation), " (", target.unit, " ", target.commune, ") × ",
                         method.name, " → ", status.error_code(), " ", status.error_message());
        if (allowed) {
          EXPECT_TRUE(status.ok()) << cell;
        } else {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << cell;
        }
        ++cells;
      }
    }
  }
  // The ministry's national area: 9 methods apply; each province-scoped role:
  // 11 in its province, 11 in another, 3 at the nation; the commune editor:
  // 10 + 10 in communes, 5 at its province. 9 + 4 × 25 + 25.
  EXPECT_EQ(cells, 134);
}

TEST_F(AuthorizationMatrixTest, TheChangeFeedIsNationWide) {
  // ListChanges names no unit: the feed covers the nation, so only
  // nation-scoped principals may read it.
  auto stub = rv1::RegistryService::NewStub(harness_.channel());
  for (const Principal& principal : Principals()) {
    type::v1::ListChangesRequest request;
    type::v1::ListChangesResponse response;
    grpc::Status status = stub->ListChanges(
        GatewayHarness::WithToken(harness_.Token(principal.role, principal.scope)).get(), request,
        &response);
    if (principal.scope.empty()) {
      EXPECT_TRUE(status.ok()) << auth::RoleName(principal.role) << ": " << status.error_message();
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << auth::RoleName(principal.role);
    }
  }
}

}  // namespace
}  // namespace htx::gateway
