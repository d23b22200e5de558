#include "common/auth/policy.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/testing/testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "htx/budget/v1/budget.pb.h"
#include "htx/gateway/v1/audit.pb.h"
#include "htx/indicator/v1/indicator.pb.h"
#include "htx/registry/v1/registry.pb.h"
#include "htx/reporting/v1/reporting.pb.h"
#include "htx/type/v1/change.pb.h"

namespace htx::auth {

void PrintTo(const Area& area, std::ostream* os) {
  *os << "{\"" << area.unit << "\"" << (area.owner_below ? ", owner_below" : "") << "}";
}

namespace {

using ::htx::testing::StatusIsWithReason;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;

// Every full method name of the five public services, from their descriptors.
std::set<std::string> DescriptorMethods() {
  const google::protobuf::FileDescriptor* files[] = {
      registry::v1::GetUnitRequest::descriptor()->file(),
      indicator::v1::GetCatalogRequest::descriptor()->file(),
      budget::v1::GetCatalogRequest::descriptor()->file(),
      reporting::v1::GetCampaignRequest::descriptor()->file(),
      gateway::v1::ListAuditRecordsRequest::descriptor()->file(),
  };
  std::set<std::string> methods;
  for (const auto* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        methods.insert(absl::StrCat("/", service->full_name(), "/", service->method(m)->name()));
      }
    }
  }
  return methods;
}

TEST(MethodTableTest, CoversExactlyTheServicesMethods) {
  const std::set<std::string> expected = DescriptorMethods();
  ASSERT_GT(expected.size(), 70u);
  std::set<std::string> listed;
  for (const MethodPolicy& policy : AllMethodPolicies()) {
    EXPECT_TRUE(listed.insert(std::string(policy.method)).second)
        << "listed twice: " << policy.method;
    EXPECT_TRUE(expected.count(std::string(policy.method))) << "no such method: " << policy.method;
  }
  for (const std::string& method : expected) {
    const MethodPolicy* policy = FindMethodPolicy(method);
    ASSERT_NE(policy, nullptr) << "no policy for " << method;
    EXPECT_EQ(policy->method, method);
  }
  EXPECT_EQ(listed.size(), expected.size());
}

TEST(MethodTableTest, ActionsAndScopes) {
  struct Case {
    const char* method;
    Action action;
    bool scoped;
  };
  const Case cases[] = {
      {"/htx.registry.v1.RegistryService/GetOrganization", Action::kRead, true},
      {"/htx.registry.v1.RegistryService/ImportRegistry", Action::kWrite, true},
      {"/htx.registry.v1.RegistryService/ImportUnits", Action::kAdmin, true},
      {"/htx.indicator.v1.IndicatorService/ImportCatalog", Action::kAdmin, false},
      {"/htx.indicator.v1.IndicatorService/ListIndicators", Action::kRead, false},
      {"/htx.indicator.v1.IndicatorService/BatchUpsertValues", Action::kWrite, true},
      {"/htx.indicator.v1.IndicatorService/SetLock", Action::kInternal, true},
      {"/htx.budget.v1.BudgetService/SetLock", Action::kInternal, true},
      {"/htx.budget.v1.BudgetService/GetLine", Action::kRead, false},
      {"/htx.budget.v1.BudgetService/DeleteFundingRecord", Action::kWrite, true},
      {"/htx.reporting.v1.ReportingService/CreateCampaign", Action::kAdmin, false},
      {"/htx.reporting.v1.ReportingService/GetCampaign", Action::kRead, false},
      {"/htx.reporting.v1.ReportingService/SubmitSubmission", Action::kWrite, true},
      {"/htx.reporting.v1.ReportingService/ReturnSubmission", Action::kApprove, true},
      {"/htx.reporting.v1.ReportingService/ApproveSubmission", Action::kApprove, true},
      {"/htx.reporting.v1.ReportingService/CompileReport", Action::kAdmin, true},
      {"/htx.reporting.v1.ReportingService/ExportReport", Action::kRead, false},
      {"/htx.gateway.v1.AuditService/ListAuditRecords", Action::kAudit, false},
      {"/htx.gateway.v1.AuditService/VerifyAuditLog", Action::kAudit, false},
  };
  for (const Case& c : cases) {
    const MethodPolicy* policy = FindMethodPolicy(c.method);
    ASSERT_NE(policy, nullptr) << c.method;
    EXPECT_EQ(policy->action, c.action) << c.method;
    EXPECT_EQ(policy->scoped, c.scoped) << c.method;
  }
  EXPECT_EQ(FindMethodPolicy("/htx.registry.v1.RegistryService/DropEverything"), nullptr);
  EXPECT_EQ(FindMethodPolicy("htx.registry.v1.RegistryService/GetUnit"), nullptr);
}

TEST(AreaOfTest, Names) {
  EXPECT_EQ(AreaOf(""), Area{""});
  EXPECT_EQ(AreaOf("catalogs/2026"), absl::nullopt);
  EXPECT_EQ(AreaOf("catalogs/2026/indicators/I.1"), absl::nullopt);
  EXPECT_EQ(AreaOf("campaigns/2026-plan/reports/r1"), absl::nullopt);
  EXPECT_EQ(AreaOf("provinces/01"), Area{"provinces/01"});
  EXPECT_EQ(AreaOf("provinces/01/communes/00004"), Area{"provinces/01/communes/00004"});
  EXPECT_EQ(AreaOf("provinces/01/communes/00004/submissions/2026-plan"),
            Area{"provinces/01/communes/00004"});
  EXPECT_EQ(AreaOf("provinces/01/communes/00004/indicator-values/2026/plan_2026/I.1"),
            Area{"provinces/01/communes/00004"});
  EXPECT_EQ(AreaOf("provinces/01/agencies/so-tai-chinh/budget-needs/2026/I.1"),
            Area{"provinces/01/agencies/so-tai-chinh"});
  EXPECT_EQ(AreaOf("provinces/01/organizations/0101234567"), (Area{"provinces/01", true}));
  EXPECT_EQ(AreaOf("provinces/01/organizations/0101234567/events/3"), (Area{"provinces/01", true}));
  EXPECT_EQ(AreaOf("provinces/01/indicator-locks/2026"), Area{"provinces/01"});
  EXPECT_EQ(AreaOf("provinces/01/submissions/2026-plan"), Area{"provinces/01"});
  // Malformed names stay themselves: only a nation-wide scope contains them.
  EXPECT_EQ(AreaOf("provinces/"), Area{"provinces/"});
  EXPECT_EQ(AreaOf("provinces"), Area{"provinces"});
  EXPECT_EQ(AreaOf("provinces//communes/1"), Area{"provinces//communes/1"});
  EXPECT_EQ(AreaOf("provinces/01/communes"), Area{"provinces/01/communes"});
  EXPECT_EQ(AreaOf("provinces/01/communes/"), Area{"provinces/01/communes/"});
  EXPECT_EQ(AreaOf("provinces/01/"), Area{"provinces/01"});
}

TEST(WithinTest, Cases) {
  EXPECT_TRUE(Within("", ""));
  EXPECT_TRUE(Within("provinces/01", ""));
  EXPECT_TRUE(Within("provinces/01", "provinces/01"));
  EXPECT_TRUE(Within("provinces/01/communes/00004", "provinces/01"));
  EXPECT_FALSE(Within("provinces/012", "provinces/01"));
  EXPECT_FALSE(Within("provinces/01", "provinces/01/communes/00004"));
  EXPECT_FALSE(Within("", "provinces/01"));
  EXPECT_FALSE(Within("provinces/79/communes/26734", "provinces/01"));
}

TEST(AreasOfTest, CreateOrganizationNamesProvinceAndCommune) {
  registry::v1::CreateOrganizationRequest request;
  request.set_parent("provinces/01");
  request.mutable_organization()->set_commune("provinces/01/communes/00004");
  request.mutable_organization()->set_display_name("HTX Nông nghiệp Đông Anh");
  // The new organisation is named under its province but owned by its commune.
  EXPECT_THAT(AreasOf(request), UnorderedElementsAre(Area{"provinces/01", true},
                                                     Area{"provinces/01/communes/00004"}));
}

TEST(AreasOfTest, UpdateOrganizationIsOwnedBelowItsProvince) {
  registry::v1::UpdateOrganizationRequest request;
  request.mutable_organization()->set_name("provinces/01/organizations/0101234567");
  EXPECT_THAT(AreasOf(request), ElementsAre(Area{"provinces/01", true}));
}

TEST(AreasOfTest, CatalogParentsAreGlobal) {
  indicator::v1::ImportCatalogRequest request;
  request.mutable_catalog()->set_name("catalogs/2026");
  auto* indicator = request.add_indicators();
  indicator->set_name("catalogs/2026/indicators/I.1.a");
  indicator->set_parent("catalogs/2026/indicators/I.1");
  EXPECT_THAT(AreasOf(request), ElementsAre(Area{""}));

  indicator::v1::ListIndicatorsRequest list;
  list.set_parent("catalogs/2026");
  EXPECT_THAT(AreasOf(list), ElementsAre(Area{""}));
}

TEST(AreasOfTest, RepeatedAndNestedFieldsDeduplicated) {
  indicator::v1::IngestValuesRequest request;
  request.add_rows()->set_name("provinces/01/communes/00004/indicator-values/2026/plan_2026/I.1");
  request.add_rows()->set_name("provinces/01/communes/00004/indicator-values/2026/plan_2026/I.2");
  request.add_rows()->set_name("provinces/79/indicator-values/2026/plan_2026/I.1");
  EXPECT_THAT(AreasOf(request),
              UnorderedElementsAre(Area{"provinces/01/communes/00004"}, Area{"provinces/79"}));

  reporting::v1::UpdateSubmissionRequest update;
  update.mutable_submission()->set_name("provinces/01/communes/00004/submissions/2026-plan");
  update.mutable_submission()->set_campaign("campaigns/2026-plan");
  EXPECT_THAT(AreasOf(update), ElementsAre(Area{"provinces/01/communes/00004"}));

  registry::v1::GetCountsRequest counts;
  counts.set_unit("provinces/01");
  EXPECT_THAT(AreasOf(counts), ElementsAre(Area{"provinces/01"}));
}

TEST(AreasOfTest, NoUnitMeansTheNation) {
  EXPECT_THAT(AreasOf(type::v1::ListChangesRequest()), ElementsAre(Area{""}));
  reporting::v1::GetCompiledReportRequest report;
  report.set_name("campaigns/2026-plan/reports/r1");
  EXPECT_THAT(AreasOf(report), ElementsAre(Area{""}));
  registry::v1::ListOrganizationsRequest list;  // parent "" = the nation
  list.set_name_contains("provinces/01");       // not a unit field
  EXPECT_THAT(AreasOf(list), ElementsAre(Area{""}));
}

Principal Make(Role role, std::string scope, std::vector<std::string> methods = {}) {
  Principal p;
  p.set_subject("test");
  p.set_role(role);
  p.set_scope(std::move(scope));
  for (auto& m : methods) p.add_methods(std::move(m));
  return p;
}

constexpr char kRead[] = "/htx.registry.v1.RegistryService/GetUnit";
constexpr char kWrite[] = "/htx.registry.v1.RegistryService/UpdateOrganization";
constexpr char kApprove[] = "/htx.reporting.v1.ReportingService/ApproveSubmission";
constexpr char kAdmin[] = "/htx.registry.v1.RegistryService/ImportUnits";
constexpr char kAudit[] = "/htx.gateway.v1.AuditService/ListAuditRecords";
constexpr char kInternal[] = "/htx.indicator.v1.IndicatorService/SetLock";

TEST(AuthorizeTest, RoleByAction) {
  const std::vector<Area> nation = {Area{""}};
  const char* methods[] = {kRead, kWrite, kApprove, kAdmin, kAudit, kInternal};
  struct Row {
    Role role;
    bool allowed[6];  // read, write, approve, admin, audit, internal
  };
  const Row rows[] = {
      {v1::ROLE_MINISTRY_ADMIN, {true, true, true, true, true, false}},
      {v1::ROLE_PROVINCE_EDITOR, {true, true, false, false, false, false}},
      {v1::ROLE_PROVINCE_APPROVER, {true, false, true, false, false, false}},
      {v1::ROLE_COMMUNE_EDITOR, {true, true, false, false, false, false}},
      {v1::ROLE_AUDITOR, {true, false, false, false, true, false}},
      {v1::ROLE_SERVICE, {true, true, true, true, true, true}},
      {v1::ROLE_UNSPECIFIED, {false, false, false, false, false, false}},
  };
  for (const Row& row : rows) {
    for (int i = 0; i < 6; ++i) {
      absl::Status status = Authorize(Make(row.role, ""), methods[i], nation);
      if (row.allowed[i]) {
        EXPECT_TRUE(status.ok()) << RoleName(row.role) << " " << methods[i] << ": " << status;
      } else {
        EXPECT_THAT(status, StatusIsWithReason(kDenied, "ROLE_NOT_ALLOWED"))
            << RoleName(row.role) << " " << methods[i];
      }
    }
  }
}

TEST(AuthorizeTest, DepartmentNeedsGrants) {
  const std::vector<Area> nation = {Area{""}};
  const Principal granted = Make(v1::ROLE_DEPARTMENT_INTEGRATION, "",
                                 {kRead, kWrite, kApprove, kAdmin, kAudit, kInternal});
  EXPECT_TRUE(Authorize(granted, kRead, nation).ok());
  EXPECT_TRUE(Authorize(granted, kWrite, nation).ok());
  // A grant never widens the role.
  for (const char* method : {kApprove, kAdmin, kAudit, kInternal}) {
    EXPECT_THAT(Authorize(granted, method, nation), StatusIsWithReason(kDenied, "ROLE_NOT_ALLOWED"))
        << method;
  }
  const Principal reader = Make(v1::ROLE_DEPARTMENT_INTEGRATION, "", {kRead});
  EXPECT_TRUE(Authorize(reader, kRead, nation).ok());
  EXPECT_THAT(Authorize(reader, kWrite, nation), StatusIsWithReason(kDenied, "METHOD_NOT_GRANTED"));
  EXPECT_THAT(Authorize(reader, "/htx.registry.v1.RegistryService/GetOrganization", nation),
              StatusIsWithReason(kDenied, "METHOD_NOT_GRANTED"));
  // Granted methods still stay inside the scope.
  const Principal bank = Make(v1::ROLE_DEPARTMENT_INTEGRATION, "provinces/01", {kRead});
  EXPECT_TRUE(Authorize(bank, kRead, {Area{"provinces/01/communes/00004"}}).ok());
  EXPECT_THAT(Authorize(bank, kRead, {Area{"provinces/79"}}),
              StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
}

TEST(AuthorizeTest, ScopeWithMessageAndMetadata) {
  const Principal editor = Make(v1::ROLE_PROVINCE_EDITOR, "provinces/01");
  EXPECT_TRUE(Authorize(editor, kWrite, {Area{"provinces/01"}}).ok());
  EXPECT_TRUE(Authorize(editor, kWrite, {Area{"provinces/01/communes/00004"}}).ok());
  absl::Status status = Authorize(
      editor, kWrite, {Area{"provinces/01/communes/00004"}, Area{"provinces/79/communes/26734"}});
  EXPECT_THAT(status, StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
  EXPECT_EQ(status.message(),
            "role province_editor (scope provinces/01) may not write provinces/79/communes/26734 "
            "via /htx.registry.v1.RegistryService/UpdateOrganization");
  EXPECT_EQ(ErrorMetadata(status, "method"), kWrite);
  EXPECT_EQ(ErrorMetadata(status, "area"), "provinces/79/communes/26734");
  // "provinces/01" is not a prefix of "provinces/012" as a unit.
  EXPECT_THAT(Authorize(editor, kRead, {Area{"provinces/012"}}),
              StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
  // The nation, and no area at all, are outside a province.
  EXPECT_THAT(Authorize(editor, kRead, {Area{""}}), StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
  EXPECT_THAT(Authorize(editor, kRead, {}), StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
}

TEST(AuthorizeTest, OwnerBelowLetsLowerScopesThrough) {
  const Area organization{"provinces/01", true};
  EXPECT_TRUE(Authorize(Make(v1::ROLE_COMMUNE_EDITOR, "provinces/01/communes/00004"), kWrite,
                        {organization})
                  .ok());
  EXPECT_TRUE(
      Authorize(Make(v1::ROLE_PROVINCE_EDITOR, "provinces/01"), kWrite, {organization}).ok());
  EXPECT_THAT(Authorize(Make(v1::ROLE_PROVINCE_EDITOR, "provinces/79"), kWrite, {organization}),
              StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
  // Without owner_below the province itself is above a commune's scope.
  EXPECT_THAT(Authorize(Make(v1::ROLE_COMMUNE_EDITOR, "provinces/01/communes/00004"), kWrite,
                        {Area{"provinces/01"}}),
              StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
}

TEST(AuthorizeTest, FromRealRequests) {
  const Principal commune = Make(v1::ROLE_COMMUNE_EDITOR, "provinces/01/communes/00004");
  const std::string create = "/htx.registry.v1.RegistryService/CreateOrganization";
  registry::v1::CreateOrganizationRequest request;
  request.set_parent("provinces/01");
  request.mutable_organization()->set_commune("provinces/01/communes/00004");
  EXPECT_TRUE(Authorize(commune, create, AreasOf(request)).ok());
  request.mutable_organization()->set_commune("provinces/01/communes/00007");
  EXPECT_THAT(Authorize(commune, create, AreasOf(request)),
              StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));

  // Catalogs are readable by everyone; the change feed only nation-wide.
  indicator::v1::ListIndicatorsRequest list;
  list.set_parent("catalogs/2026");
  EXPECT_TRUE(
      Authorize(commune, "/htx.indicator.v1.IndicatorService/ListIndicators", AreasOf(list)).ok());
  EXPECT_THAT(Authorize(commune, "/htx.indicator.v1.IndicatorService/ListChanges",
                        AreasOf(type::v1::ListChangesRequest())),
              StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
  EXPECT_TRUE(Authorize(Make(v1::ROLE_AUDITOR, "provinces/01"), kAudit, {Area{""}}).ok());
}

TEST(AuthorizeTest, UnknownMethod) {
  EXPECT_THAT(
      Authorize(Make(v1::ROLE_SERVICE, ""), "/htx.registry.v1.RegistryService/Nope", {Area{""}}),
      StatusIsWithReason(kDenied, "UNKNOWN_METHOD"));
  EXPECT_THAT(Authorize(Make(v1::ROLE_MINISTRY_ADMIN, ""), "", {Area{""}}),
              StatusIsWithReason(kDenied, "UNKNOWN_METHOD"));
}

TEST(AuthorizeOwnerTest, Scope) {
  const Principal commune = Make(v1::ROLE_COMMUNE_EDITOR, "provinces/01/communes/00004");
  EXPECT_TRUE(AuthorizeOwner(commune, "provinces/01/communes/00004").ok());
  absl::Status status = AuthorizeOwner(commune, "provinces/01/communes/00007");
  EXPECT_THAT(status, StatusIsWithReason(kDenied, "OUT_OF_SCOPE"));
  EXPECT_EQ(ErrorMetadata(status, "area"), "provinces/01/communes/00007");
  EXPECT_TRUE(AuthorizeOwner(Make(v1::ROLE_MINISTRY_ADMIN, ""), "provinces/79").ok());
  EXPECT_THAT(AuthorizeOwner(Make(v1::ROLE_UNSPECIFIED, ""), "provinces/79"),
              StatusIsWithReason(kDenied, "ROLE_NOT_ALLOWED"));
}

TEST(RoleNameTest, RoundTrip) {
  const std::pair<Role, const char*> names[] = {
      {v1::ROLE_MINISTRY_ADMIN, "ministry_admin"},
      {v1::ROLE_PROVINCE_EDITOR, "province_editor"},
      {v1::ROLE_PROVINCE_APPROVER, "province_approver"},
      {v1::ROLE_COMMUNE_EDITOR, "commune_editor"},
      {v1::ROLE_DEPARTMENT_INTEGRATION, "department_integration"},
      {v1::ROLE_AUDITOR, "auditor"},
      {v1::ROLE_SERVICE, "service"},
  };
  for (const auto& [role, name] : names) {
    EXPECT_EQ(RoleName(role), name);
    EXPECT_EQ(ParseRoleName(name), role);
  }
  EXPECT_EQ(ParseRoleName("unspecified"), absl::nullopt);
  EXPECT_EQ(ParseRoleName("MINISTRY_ADMIN"), absl::nullopt);
  EXPECT_EQ(ParseRoleName(""), absl::nullopt);
}

}  // namespace
}  // namespace htx::auth
