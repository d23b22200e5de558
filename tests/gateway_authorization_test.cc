// The authorization matrix, end to end through the gateway to the registry,
// the indicator and the budget service: every role × its own area / another
// area / the area above × every unary method of the three, each cell asserting OK (the call
// went through and the service did it) or PERMISSION_DENIED. The expectations
// are written out below, independently of the policy code they check.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/budget/catalog_data.h"
#include "services/gateway/gateway_harness.h"
#include "services/indicator/catalog_data.h"
#include "tests/gateway_test_data.h"

namespace htx::gateway {
namespace {

namespace iv1 = ::htx::indicator::v1;
namespace bv1 = ::htx::budget::v1;

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

// What the department's credential grants. SetLock is granted too: a grant
// never opens an internal method.
const std::vector<std::string> kDepartmentGrants = {
    "/htx.registry.v1.RegistryService/GetOrganization",
    "/htx.registry.v1.RegistryService/ListOrganizations",
    "/htx.registry.v1.RegistryService/CreateOrganization",
    "/htx.indicator.v1.IndicatorService/GetCatalog",
    "/htx.indicator.v1.IndicatorService/GetValue",
    "/htx.indicator.v1.IndicatorService/BatchUpsertValues",
    "/htx.indicator.v1.IndicatorService/SetLock",
    "/htx.budget.v1.BudgetService/GetNeed",
    "/htx.budget.v1.BudgetService/CreateFundingRecord",
};

// kInternal: service-to-service calls (SetLock, made by reporting).
enum class Kind { kRead, kWrite, kAdmin, kInternal };

// The expected answer of a cell: internal calls are for services only;
// nobody acts outside their scope; inside it, reads are for everyone, writes
// for editors and the ministry, administration for the ministry, and a
// department only for what it was granted. A call that names no area (the
// global catalog) is always in the caller's own.
bool Allowed(auth::Role role, Kind kind, Relation relation, const std::string& method) {
  if (kind == Kind::kInternal) return false;
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

// The indicator data of the matrix: plan year 2026 of the shipped catalog.
constexpr int kYear = 2026;
constexpr char kCatalog[] = "catalogs/2026";
constexpr char kTable[] = "phu-luc-1";

// Hà Nội's Phụ lục I, first rows, as printed in Kế hoạch 381/KH-UBND: written
// for every unit, it makes a failed finding there (2698 ≠ 2675 + 100 - 30).
constexpr char kExcerpt[] =
    "code,parent,label_vi,unit,actual_2024,plan_2025,estimate_2025,plan_2026\n"
    "I,,Hợp tác xã,,,,,\n"
    "I.1,I,Tổng số hợp tác xã,HTX,2675,2698,2912,2962\n"
    "I.1.a,I.1,Số hợp tác xã đang hoạt động,HTX,2330,2353,2441,2591\n"
    "I.1.b,I.1,Số hợp tác xã thành lập mới,HTX,149,100,250,150\n"
    "I.1.c,I.1,Số hợp tác xã giải thể,HTX,12,30,13,100\n";

std::string ValueName(const std::string& unit, const std::string& column, const std::string& code) {
  return absl::StrCat(unit, "/indicator-values/", kYear, "/", column, "/", code);
}

std::string FailedFinding(const std::string& unit) {
  return absl::StrCat(unit, "/indicator-findings/", kYear, "/stock-flow-htx/plan_2025");
}

std::string LockName(const std::string& unit) {
  return absl::StrCat(unit, "/indicator-locks/", kYear);
}

// The budget data of the matrix: two needs per unit of the shipped 2026
// catalog, one of them (I.2) an amount without its source, a failed finding.
std::string NeedName(const std::string& unit, const std::string& code) {
  return absl::StrCat(unit, "/budget-needs/", kYear, "/", code);
}

std::string FailedBudgetFinding(const std::string& unit) {
  return absl::StrCat(unit, "/budget-findings/", kYear, "/I.2/source-split");
}

class AuthorizationMatrixTest : public ::testing::Test {
 public:
  AuthorizationMatrixTest() {
    SeedRegistry(harness_.registry());
    SeedIndicator();
    SeedBudget();
  }

  // Imports the shipped budget catalog and writes two needs for every unit
  // of the matrix, as an operator directly on the budget service.
  void SeedBudget() {
    absl::StatusOr<bv1::ImportCatalogRequest> shipped =
        budget::LoadCatalogFile(budget::kCatalog2026Path);
    ASSERT_TRUE(shipped.ok()) << shipped.status();
    budget_catalog_ = *std::move(shipped);
    bv1::BudgetService::Stub& stub = harness_.budget().stub();
    bv1::Catalog imported;
    HTX_ASSERT_OK(stub.ImportCatalog(Context().get(), budget_catalog_, &imported));
    for (const char* unit : {kHanoi, kHcmc, kOwnCommune, kOtherCommune, kHcmcCommune}) {
      bv1::BatchUpsertNeedsRequest upsert;
      upsert.set_parent(unit);
      upsert.set_year(kYear);
      upsert.set_source_system("ke-hoach-381");
      bv1::Need* training = upsert.add_writes()->mutable_need();
      training->set_name(NeedName(unit, "I.1.a"));
      training->mutable_planned()->set_local_dong(1107000000);
      bv1::Need* information = upsert.add_writes()->mutable_need();
      information->set_name(NeedName(unit, "I.2"));
      information->mutable_planned()->set_unspecified_dong(316000000);
      bv1::BatchUpsertNeedsResponse written;
      HTX_ASSERT_OK(stub.BatchUpsertNeeds(Context().get(), upsert, &written));
    }
  }

  // A new allocation on `unit`'s training need, made directly in the budget
  // service, for cells that delete one.
  std::string FreshFundingRecord(const std::string& unit) {
    bv1::CreateFundingRecordRequest request;
    request.set_parent(NeedName(unit, "I.1.a"));
    request.set_source_system("matrix");
    bv1::FundingRecord* record = request.mutable_record();
    record->set_kind(bv1::FUNDING_RECORD_KIND_ALLOCATION);
    record->mutable_date()->set_year(2026);
    record->mutable_date()->set_month(3);
    record->mutable_date()->set_day(1);
    record->mutable_amounts()->set_local_dong(500000000);
    bv1::FundingRecord created;
    HTX_EXPECT_OK(harness_.budget().stub().CreateFundingRecord(Context().get(), request, &created));
    return created.name();
  }

  const bv1::ImportCatalogRequest& budget_catalog() const { return budget_catalog_; }

  // Imports the shipped catalog and writes the excerpt for every unit of the
  // matrix, as an operator directly on the indicator service.
  void SeedIndicator() {
    absl::StatusOr<iv1::ImportCatalogRequest> shipped =
        indicator::LoadCatalogFile(indicator::kCatalog2026Path);
    ASSERT_TRUE(shipped.ok()) << shipped.status();
    catalog_ = *std::move(shipped);
    iv1::IndicatorService::Stub& stub = harness_.indicator().stub();
    iv1::Catalog imported;
    HTX_ASSERT_OK(stub.ImportCatalog(Context().get(), catalog_, &imported));
    for (const char* unit : {kHanoi, kHcmc, kOwnCommune, kOtherCommune, kHcmcCommune}) {
      absl::StatusOr<std::vector<iv1::ValueWrite>> writes =
          indicator::ParseAppendixCsvText(kExcerpt, "excerpt", unit, kYear, catalog_);
      ASSERT_TRUE(writes.ok()) << writes.status();
      iv1::BatchUpsertValuesRequest upsert;
      upsert.set_parent(unit);
      upsert.set_year(kYear);
      upsert.set_source_system("ke-hoach-381");
      for (const iv1::ValueWrite& write : *writes) *upsert.add_writes() = write;
      iv1::BatchUpsertValuesResponse written;
      HTX_ASSERT_OK(stub.BatchUpsertValues(Context().get(), upsert, &written));
      // The finding ExplainFinding explains has failed.
      iv1::ListFindingsRequest list;
      list.set_parent(unit);
      list.set_year(kYear);
      iv1::ListFindingsResponse listed;
      HTX_ASSERT_OK(stub.ListFindings(Context().get(), list, &listed));
      bool failed = false;
      for (const iv1::Finding& f : listed.findings()) {
        if (f.name() == FailedFinding(unit)) failed = f.outcome() == iv1::FINDING_OUTCOME_FAILED;
      }
      EXPECT_TRUE(failed) << FailedFinding(unit);
    }
  }

  // The shipped catalog's import request.
  const iv1::ImportCatalogRequest& catalog() const { return catalog_; }

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
  iv1::ImportCatalogRequest catalog_;
  bv1::ImportCatalogRequest budget_catalog_;
};

// Which targets a method can point at at all.
enum class Applies {
  kAnyArea,       // the nation, a province or a commune
  kNamedUnit,     // a province or a commune (the nation has no unit to get)
  kAboveCommune,  // the nation or a province (communes have no child units)
  kCommune,       // calls about organisations, which belong to a commune
  kDataUnit,      // a unit's figures: a province's or a commune's (the
                  // nation-wide ministry acts on a commune's)
  kNoArea,        // the global catalog: one cell per principal, its own area
};

// The unit whose figures a kDataUnit call is about.
std::string DataUnit(const Target& target) {
  return target.unit.empty() ? target.commune : target.unit;
}

bool Constructible(Applies applies, Relation relation, const Target& target) {
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
    case Applies::kDataUnit:
      return !DataUnit(target).empty();
    case Applies::kNoArea:
      return relation == Relation::kOwn;
  }
  return false;
}

template <typename Stub>
struct Method {
  std::string name;
  Kind kind;
  Applies applies;
  // Calls the method through `stub` about `target`.
  std::function<grpc::Status(AuthorizationMatrixTest&, Stub&, grpc::ClientContext*, const Target&)>
      call;
};

std::vector<Method<rv1::RegistryService::Stub>> RegistryMethods() {
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

std::vector<Method<iv1::IndicatorService::Stub>> IndicatorMethods() {
  using Stub = iv1::IndicatorService::Stub;
  using T = AuthorizationMatrixTest;
  return {
      {"GetCatalog", Kind::kRead, Applies::kNoArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target&) {
         iv1::GetCatalogRequest r;
         r.set_name(kCatalog);
         iv1::Catalog out;
         return s.GetCatalog(c, r, &out);
       }},
      {"ListIndicators", Kind::kRead, Applies::kNoArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target&) {
         iv1::ListIndicatorsRequest r;
         r.set_parent(kCatalog);
         r.set_table(kTable);
         iv1::ListIndicatorsResponse out;
         return s.ListIndicators(c, r, &out);
       }},
      {"ImportCatalog", Kind::kAdmin, Applies::kNoArea,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target&) {
         // The same catalog again: a real import that changes no figure.
         iv1::Catalog out;
         return s.ImportCatalog(c, t.catalog(), &out);
       }},
      {"GetValue", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         iv1::GetValueRequest r;
         r.set_name(ValueName(DataUnit(t), "plan_2026", "I.1"));
         iv1::IndicatorValue out;
         return s.GetValue(c, r, &out);
       }},
      {"ListValues", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         iv1::ListValuesRequest r;
         r.set_parent(DataUnit(t));
         r.set_year(kYear);
         r.set_table(kTable);
         iv1::ListValuesResponse out;
         return s.ListValues(c, r, &out);
       }},
      {"ListValueHistory", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         iv1::ListValueHistoryRequest r;
         r.set_name(ValueName(DataUnit(t), "plan_2026", "I.1"));
         iv1::ListValueHistoryResponse out;
         return s.ListValueHistory(c, r, &out);
       }},
      {"BatchUpsertValues", Kind::kWrite, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         // The seeded figure again, so that the seeded finding stays failed.
         const std::string unit = DataUnit(t);
         iv1::BatchUpsertValuesRequest r;
         r.set_parent(unit);
         r.set_year(kYear);
         r.set_source_system("matrix");
         iv1::ValueWrite* write = r.add_writes();
         write->set_name(ValueName(unit, "plan_2026", "I.1.b"));
         write->mutable_value()->set_state(iv1::VALUE_STATE_NUMBER);
         write->mutable_value()->set_number("150");
         iv1::BatchUpsertValuesResponse out;
         return s.BatchUpsertValues(c, r, &out);
       }},
      {"GetTable", Kind::kRead, Applies::kAnyArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         // A unit's own table; the nation's is its roll-up.
         iv1::GetTableRequest r;
         r.set_unit(t.unit);
         r.set_year(kYear);
         r.set_table(kTable);
         iv1::IndicatorTable out;
         return s.GetTable(c, r, &out);
       }},
      {"GetRollup", Kind::kRead, Applies::kAboveCommune,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         iv1::GetRollupRequest r;
         r.set_unit(t.unit);
         r.set_year(kYear);
         r.set_table(kTable);
         r.add_columns("plan_2026");
         iv1::Rollup out;
         return s.GetRollup(c, r, &out);
       }},
      {"ListFindings", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         iv1::ListFindingsRequest r;
         r.set_parent(DataUnit(t));
         r.set_year(kYear);
         iv1::ListFindingsResponse out;
         return s.ListFindings(c, r, &out);
       }},
      {"ExplainFinding", Kind::kWrite, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         iv1::ExplainFindingRequest r;
         r.set_name(FailedFinding(DataUnit(t)));
         r.set_text("Số liệu kế hoạch 2025 đã được điều chỉnh giữa năm");
         iv1::Finding out;
         return s.ExplainFinding(c, r, &out);
       }},
      {"GetLock", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         type::v1::GetLockRequest r;
         r.set_name(LockName(DataUnit(t)));
         type::v1::Lock out;
         return s.GetLock(c, r, &out);
       }},
      {"SetLock", Kind::kInternal, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         // Unlocking an open lock: were it let through, it would change nothing.
         type::v1::SetLockRequest r;
         r.set_name(LockName(DataUnit(t)));
         r.set_locked(false);
         type::v1::Lock out;
         return s.SetLock(c, r, &out);
       }},
  };
}

std::vector<Method<bv1::BudgetService::Stub>> BudgetMethods() {
  using Stub = bv1::BudgetService::Stub;
  using T = AuthorizationMatrixTest;
  return {
      {"GetCatalog", Kind::kRead, Applies::kNoArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target&) {
         bv1::GetCatalogRequest r;
         r.set_name(kCatalog);
         bv1::Catalog out;
         return s.GetCatalog(c, r, &out);
       }},
      {"ListCatalogs", Kind::kRead, Applies::kNoArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target&) {
         bv1::ListCatalogsRequest r;
         bv1::ListCatalogsResponse out;
         return s.ListCatalogs(c, r, &out);
       }},
      {"GetLine", Kind::kRead, Applies::kNoArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target&) {
         bv1::GetLineRequest r;
         r.set_name(absl::StrCat(kCatalog, "/lines/I.3.1"));
         bv1::Line out;
         return s.GetLine(c, r, &out);
       }},
      {"ListLines", Kind::kRead, Applies::kNoArea,
       [](T&, Stub& s, grpc::ClientContext* c, const Target&) {
         bv1::ListLinesRequest r;
         r.set_parent(kCatalog);
         bv1::ListLinesResponse out;
         return s.ListLines(c, r, &out);
       }},
      {"ImportCatalog", Kind::kAdmin, Applies::kNoArea,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target&) {
         // The same catalog again: a real import that changes no figure.
         bv1::Catalog out;
         return s.ImportCatalog(c, t.budget_catalog(), &out);
       }},
      {"GetNeed", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::GetNeedRequest r;
         r.set_name(NeedName(DataUnit(t), "I.1.a"));
         bv1::Need out;
         return s.GetNeed(c, r, &out);
       }},
      {"ListNeeds", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::ListNeedsRequest r;
         r.set_parent(DataUnit(t));
         r.set_year(kYear);
         bv1::ListNeedsResponse out;
         return s.ListNeeds(c, r, &out);
       }},
      {"UpdateNeed", Kind::kWrite, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         // The seeded figure again, so that every cell starts the same.
         bv1::UpdateNeedRequest r;
         r.mutable_need()->set_name(NeedName(DataUnit(t), "I.1.a"));
         r.mutable_need()->mutable_planned()->set_local_dong(1107000000);
         r.mutable_update_mask()->add_paths("planned.local_dong");
         r.set_source_system("matrix");
         bv1::Need out;
         return s.UpdateNeed(c, r, &out);
       }},
      {"BatchUpsertNeeds", Kind::kWrite, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         const std::string unit = DataUnit(t);
         bv1::BatchUpsertNeedsRequest r;
         r.set_parent(unit);
         r.set_year(kYear);
         r.set_source_system("matrix");
         bv1::Need* need = r.add_writes()->mutable_need();
         need->set_name(NeedName(unit, "I.1.b"));
         need->set_beneficiaries(3490);
         need->mutable_planned()->set_local_dong(6777000000);
         bv1::BatchUpsertNeedsResponse out;
         return s.BatchUpsertNeeds(c, r, &out);
       }},
      {"CreateFundingRecord", Kind::kWrite, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::CreateFundingRecordRequest r;
         r.set_parent(NeedName(DataUnit(t), "I.1.a"));
         r.set_source_system("matrix");
         r.mutable_record()->set_kind(bv1::FUNDING_RECORD_KIND_DISBURSEMENT);
         r.mutable_record()->mutable_date()->set_year(2026);
         r.mutable_record()->mutable_date()->set_month(6);
         r.mutable_record()->mutable_date()->set_day(30);
         r.mutable_record()->mutable_amounts()->set_local_dong(1000000);
         bv1::FundingRecord out;
         return s.CreateFundingRecord(c, r, &out);
       }},
      {"ListFundingRecords", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::ListFundingRecordsRequest r;
         r.set_parent(absl::StrCat(DataUnit(t), "/budget-needs/", kYear));
         bv1::ListFundingRecordsResponse out;
         return s.ListFundingRecords(c, r, &out);
       }},
      {"DeleteFundingRecord", Kind::kWrite, Applies::kDataUnit,
       [](T& t, Stub& s, grpc::ClientContext* c, const Target& target) {
         bv1::DeleteFundingRecordRequest r;
         r.set_name(t.FreshFundingRecord(DataUnit(target)));
         bv1::DeleteFundingRecordResponse out;
         return s.DeleteFundingRecord(c, r, &out);
       }},
      {"GetRollup", Kind::kRead, Applies::kAboveCommune,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::GetRollupRequest r;
         r.set_unit(t.unit);
         r.set_year(kYear);
         bv1::Rollup out;
         return s.GetRollup(c, r, &out);
       }},
      {"ListFindings", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::ListFindingsRequest r;
         r.set_parent(DataUnit(t));
         r.set_year(kYear);
         bv1::ListFindingsResponse out;
         return s.ListFindings(c, r, &out);
       }},
      {"ExplainFinding", Kind::kWrite, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         bv1::ExplainFindingRequest r;
         r.set_name(FailedBudgetFinding(DataUnit(t)));
         r.set_text("Bản in chỉ ghi tổng kinh phí, chưa phân theo nguồn");
         bv1::Finding out;
         return s.ExplainFinding(c, r, &out);
       }},
      {"GetLock", Kind::kRead, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         type::v1::GetLockRequest r;
         r.set_name(absl::StrCat(DataUnit(t), "/budget-locks/", kYear));
         type::v1::Lock out;
         return s.GetLock(c, r, &out);
       }},
      {"SetLock", Kind::kInternal, Applies::kDataUnit,
       [](T&, Stub& s, grpc::ClientContext* c, const Target& t) {
         type::v1::SetLockRequest r;
         r.set_name(absl::StrCat(DataUnit(t), "/budget-locks/", kYear));
         r.set_locked(false);
         type::v1::Lock out;
         return s.SetLock(c, r, &out);
       }},
  };
}

// Runs every cell of `methods` of `service` through `stub` and returns how
// many there were.
template <typename Stub>
int RunMatrix(AuthorizationMatrixTest& test, GatewayHarness& harness, const std::string& service,
              Stub& stub, const std::vector<Method<Stub>>& methods) {
  int cells = 0;
  for (const Principal& principal : Principals()) {
    const std::string token = harness.Token(principal.role, principal.scope,
                                            principal.role == auth::v1::ROLE_DEPARTMENT_INTEGRATION
                                                ? kDepartmentGrants
                                                : std::vector<std::string>{});
    for (const Method<Stub>& method : methods) {
      const std::string full = absl::StrCat("/", service, "/", method.name);
      for (const auto& [relation, target] : principal.targets) {
        if (!Constructible(method.applies, relation, target)) continue;  // no such request
        const bool allowed = Allowed(principal.role, method.kind, relation, full);
        grpc::Status status =
            method.call(test, stub, GatewayHarness::WithToken(token).get(), target);
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
  return cells;
}

TEST_F(AuthorizationMatrixTest, EveryRoleAreaAndMethod) {
  auto registry = rv1::RegistryService::NewStub(harness_.channel());
  auto indicator = iv1::IndicatorService::NewStub(harness_.channel());
  const int registry_cells =
      RunMatrix(*this, harness_, "htx.registry.v1.RegistryService", *registry, RegistryMethods());
  // Registry: the ministry's national area: 9 methods apply; each
  // province-scoped role: 11 in its province, 11 in another, 3 at the nation;
  // the commune editor: 10 + 10 in communes, 5 at its province. 9 + 4 × 25 + 25.
  EXPECT_EQ(registry_cells, 134);
  const int indicator_cells = RunMatrix(*this, harness_, "htx.indicator.v1.IndicatorService",
                                        *indicator, IndicatorMethods());
  // Indicator: the 3 catalog methods once per principal (6 × 3 = 18); the 8
  // methods about a unit's figures (values, history, upserts, findings,
  // explanations, locks) for the ministry in a commune, each province-scoped
  // role in 2 provinces, the commune editor in 2 communes and its province
  // (8 × (1 + 4 × 2 + 3) = 96); GetTable at every area (1 + 4 × 3 + 3 = 16);
  // GetRollup at the nation and provinces (1 + 4 × 3 + 1 = 14). 18 + 96 + 16 + 14.
  EXPECT_EQ(indicator_cells, 144);
  auto budget = bv1::BudgetService::NewStub(harness_.channel());
  const int budget_cells =
      RunMatrix(*this, harness_, "htx.budget.v1.BudgetService", *budget, BudgetMethods());
  // Budget: the 5 catalog methods once per principal (6 × 5 = 30); the 11
  // methods about a unit's needs, records, findings and locks as the
  // indicator's 8 (11 × 12 = 132); GetRollup at the nation and provinces (14).
  EXPECT_EQ(budget_cells, 176);
  EXPECT_EQ(registry_cells + indicator_cells + budget_cells, 454);
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
