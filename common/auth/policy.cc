#include "common/auth/policy.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "google/protobuf/descriptor.h"

namespace htx::auth {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr absl::string_view kRegistry = "/htx.registry.v1.RegistryService/";
constexpr absl::string_view kIndicator = "/htx.indicator.v1.IndicatorService/";
constexpr absl::string_view kBudget = "/htx.budget.v1.BudgetService/";
constexpr absl::string_view kReporting = "/htx.reporting.v1.ReportingService/";
constexpr absl::string_view kAuditService = "/htx.gateway.v1.AuditService/";

struct Entry {
  absl::string_view service;
  absl::string_view method;
  Action action;
  bool scoped;
};

// Every rpc of the suite's public services. A request that names no unit is
// about the nation, so a scoped method without unit fields (ListChanges: the
// feed covers every unit) is for nation-wide callers only.
constexpr Entry kEntries[] = {
    // Registry.
    {kRegistry, "GetUnit", Action::kRead, true},
    {kRegistry, "ListUnits", Action::kRead, true},
    {kRegistry, "ImportUnits", Action::kAdmin, true},
    {kRegistry, "CreateOrganization", Action::kWrite, true},
    {kRegistry, "GetOrganization", Action::kRead, true},
    {kRegistry, "ListOrganizations", Action::kRead, true},
    {kRegistry, "UpdateOrganization", Action::kWrite, true},
    {kRegistry, "AppendEvent", Action::kWrite, true},
    {kRegistry, "ListEvents", Action::kRead, true},
    {kRegistry, "SetClassification", Action::kWrite, true},
    {kRegistry, "GetCounts", Action::kRead, true},
    {kRegistry, "ImportRegistry", Action::kWrite, true},
    {kRegistry, "ListChanges", Action::kRead, true},
    // Indicator: the catalog is global, values, findings and locks belong to a unit.
    {kIndicator, "ImportCatalog", Action::kAdmin, false},
    {kIndicator, "GetCatalog", Action::kRead, false},
    {kIndicator, "ListCatalogs", Action::kRead, false},
    {kIndicator, "GetIndicator", Action::kRead, false},
    {kIndicator, "ListIndicators", Action::kRead, false},
    {kIndicator, "ListRules", Action::kRead, false},
    {kIndicator, "GetValue", Action::kRead, true},
    {kIndicator, "ListValues", Action::kRead, true},
    {kIndicator, "ListValueHistory", Action::kRead, true},
    {kIndicator, "BatchUpsertValues", Action::kWrite, true},
    {kIndicator, "IngestValues", Action::kWrite, true},
    {kIndicator, "GetTable", Action::kRead, true},
    {kIndicator, "GetRollup", Action::kRead, true},
    {kIndicator, "ListFindings", Action::kRead, true},
    {kIndicator, "ExplainFinding", Action::kWrite, true},
    {kIndicator, "GetLock", Action::kRead, true},
    {kIndicator, "SetLock", Action::kInternal, true},
    {kIndicator, "ListChanges", Action::kRead, true},
    // Budget: same split as indicator.
    {kBudget, "ImportCatalog", Action::kAdmin, false},
    {kBudget, "GetCatalog", Action::kRead, false},
    {kBudget, "ListCatalogs", Action::kRead, false},
    {kBudget, "GetLine", Action::kRead, false},
    {kBudget, "ListLines", Action::kRead, false},
    {kBudget, "GetNeed", Action::kRead, true},
    {kBudget, "ListNeeds", Action::kRead, true},
    {kBudget, "UpdateNeed", Action::kWrite, true},
    {kBudget, "BatchUpsertNeeds", Action::kWrite, true},
    {kBudget, "IngestNeeds", Action::kWrite, true},
    {kBudget, "CreateFundingRecord", Action::kWrite, true},
    {kBudget, "ListFundingRecords", Action::kRead, true},
    {kBudget, "DeleteFundingRecord", Action::kWrite, true},
    {kBudget, "GetRollup", Action::kRead, true},
    {kBudget, "ListFindings", Action::kRead, true},
    {kBudget, "ExplainFinding", Action::kWrite, true},
    {kBudget, "GetLock", Action::kRead, true},
    {kBudget, "SetLock", Action::kInternal, true},
    {kBudget, "ListChanges", Action::kRead, true},
    // Reporting: campaigns are global; submissions are named under their unit.
    {kReporting, "CreateCampaign", Action::kAdmin, false},
    {kReporting, "GetCampaign", Action::kRead, false},
    {kReporting, "ListCampaigns", Action::kRead, false},
    {kReporting, "UpdateCampaign", Action::kAdmin, false},
    {kReporting, "DeleteCampaign", Action::kAdmin, false},
    {kReporting, "CreateSubmission", Action::kWrite, true},
    {kReporting, "GetSubmission", Action::kRead, true},
    // Scoped by `parent` (the subtree): "" (every unit) is for nation-wide callers.
    {kReporting, "ListSubmissions", Action::kRead, true},
    {kReporting, "UpdateSubmission", Action::kWrite, true},
    {kReporting, "DeleteSubmission", Action::kWrite, true},
    {kReporting, "SubmitSubmission", Action::kWrite, true},
    {kReporting, "ReturnSubmission", Action::kApprove, true},
    {kReporting, "ApproveSubmission", Action::kApprove, true},
    {kReporting, "GetCompleteness", Action::kRead, true},
    // Scoped by its `unit` ("" = the nation).
    {kReporting, "CompileReport", Action::kAdmin, true},
    // Named "campaigns/{c}/reports/{r}": the service checks the report's unit
    // with AuthorizeOwner.
    {kReporting, "GetCompiledReport", Action::kRead, false},
    // Scoped by its `unit` filter: "" (every unit's reports) is for nation-wide callers.
    {kReporting, "ListCompiledReports", Action::kRead, true},
    {kReporting, "ExportReport", Action::kRead, false},
    {kReporting, "ListChanges", Action::kRead, true},
    // The gateway's audit log.
    {kAuditService, "ListAuditRecords", Action::kAudit, false},
    {kAuditService, "VerifyAuditLog", Action::kAudit, false},
};

struct Table {
  std::vector<std::string> names;  // owns the strings MethodPolicy points to
  std::vector<MethodPolicy> policies;
  absl::flat_hash_map<absl::string_view, const MethodPolicy*> by_method;
};

const Table& PolicyTable() {
  static const Table* const table = [] {
    auto* t = new Table;
    t->names.reserve(std::size(kEntries));
    for (const Entry& e : kEntries) t->names.push_back(absl::StrCat(e.service, e.method));
    t->policies.reserve(std::size(kEntries));
    for (size_t i = 0; i < std::size(kEntries); ++i) {
      t->policies.push_back(MethodPolicy{t->names[i], kEntries[i].action, kEntries[i].scoped});
    }
    for (const MethodPolicy& p : t->policies) t->by_method.emplace(p.method, &p);
    return t;
  }();
  return *table;
}

bool RoleMayDo(Role role, Action action) {
  switch (role) {
    case v1::ROLE_MINISTRY_ADMIN:
      return action != Action::kInternal;
    case v1::ROLE_PROVINCE_EDITOR:
    case v1::ROLE_COMMUNE_EDITOR:
    case v1::ROLE_DEPARTMENT_INTEGRATION:
      return action == Action::kRead || action == Action::kWrite;
    case v1::ROLE_PROVINCE_APPROVER:
      return action == Action::kRead || action == Action::kApprove;
    case v1::ROLE_AUDITOR:
      return action == Action::kRead || action == Action::kAudit;
    case v1::ROLE_SERVICE:
      return true;
    default:
      return false;
  }
}

absl::string_view Verb(Action action) {
  switch (action) {
    case Action::kRead:
      return "read";
    case Action::kWrite:
      return "write";
    case Action::kApprove:
      return "approve";
    case Action::kAdmin:
      return "administer";
    case Action::kAudit:
      return "audit";
    case Action::kInternal:
      return "call internal methods";
  }
  return "call";
}

absl::string_view UnitLabel(absl::string_view unit) { return unit.empty() ? "the nation" : unit; }

// "role province_editor (scope provinces/01)".
std::string Who(const Principal& principal) {
  return absl::StrCat("role ", RoleName(principal.role()), " (scope ", UnitLabel(principal.scope()),
                      ")");
}

bool AreaAllowed(const Area& area, absl::string_view scope) {
  return Within(area.unit, scope) || (area.owner_below && Within(scope, area.unit));
}

// Request fields, besides `name`, `parent` and `unit`, that name the unit a
// request is about: an organisation's commune is its owner.
bool IsAreaField(absl::string_view field) {
  return field == "name" || field == "parent" || field == "unit" || field == "commune";
}

// Fields naming a unit under which the request's resource will be named,
// while it belongs to a unit below given elsewhere in the request (a new
// organisation is named under its province but owned by its commune, which
// the service checks).
bool IsOwnerBelowField(const Descriptor* message, absl::string_view field) {
  return field == "parent" && message->full_name() == "htx.registry.v1.CreateOrganizationRequest";
}

void AddArea(Area area, std::vector<Area>* areas) {
  if (std::find(areas->begin(), areas->end(), area) == areas->end()) {
    areas->push_back(std::move(area));
  }
}

void CollectAreas(const Message& message, int depth, std::vector<Area>* areas) {
  constexpr int kMaxDepth = 8;
  if (depth >= kMaxDepth) return;
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->type() == FieldDescriptor::TYPE_STRING && IsAreaField(field->name())) {
      const bool owner_below = IsOwnerBelowField(descriptor, field->name());
      auto add = [&](const std::string& value) {
        if (value.empty()) return;
        absl::optional<Area> area = AreaOf(value);
        if (!area.has_value()) return;
        if (owner_below) area->owner_below = true;
        AddArea(*std::move(area), areas);
      };
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) add(reflection->GetRepeatedString(message, field, i));
      } else {
        add(reflection->GetString(message, field));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      // Well-known types (timestamps, masks, Any) never name a unit.
      if (absl::StartsWith(field->message_type()->full_name(), "google.protobuf.")) continue;
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) {
          CollectAreas(reflection->GetRepeatedMessage(message, field, i), depth + 1, areas);
        }
      } else {
        CollectAreas(reflection->GetMessage(message, field), depth + 1, areas);
      }
    }
  }
}

}  // namespace

const MethodPolicy* FindMethodPolicy(absl::string_view full_method) {
  const Table& table = PolicyTable();
  auto it = table.by_method.find(full_method);
  return it == table.by_method.end() ? nullptr : it->second;
}

const std::vector<MethodPolicy>& AllMethodPolicies() { return PolicyTable().policies; }

absl::optional<Area> AreaOf(absl::string_view resource_name) {
  if (resource_name.empty()) return Area{};
  if (resource_name == "provinces") return Area{std::string(resource_name)};
  if (!absl::StartsWith(resource_name, "provinces/")) return absl::nullopt;
  // Only the first four segments matter: provinces/{p}/{collection}/{id}.
  // Cut without copies: a bulk message asks this for every row.
  absl::string_view parts[4];
  int count = 0;
  for (absl::string_view rest = resource_name; count < 4;) {
    const size_t slash = rest.find('/');
    parts[count++] = rest.substr(0, slash);
    if (slash == absl::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // The name up to and including parts[i].
  auto through = [&](int i) {
    return std::string(resource_name.substr(0, parts[i].end() - resource_name.begin()));
  };
  // A malformed name stays as it is: inside nobody's scope but the nation's,
  // and the service rejects it as INVALID_ARGUMENT.
  if (parts[1].empty()) return Area{std::string(resource_name)};
  if (count == 2) return Area{through(1)};
  const absl::string_view collection = parts[2];
  if (collection == "communes" || collection == "agencies" || collection == "organizations") {
    if (count < 4 || parts[3].empty()) return Area{std::string(resource_name)};
    if (collection == "organizations") return Area{through(1), /*owner_below=*/true};
    return Area{through(3)};
  }
  return Area{through(1)};
}

bool Within(absl::string_view unit, absl::string_view scope) {
  if (scope.empty()) return true;
  if (!absl::StartsWith(unit, scope)) return false;
  return unit.size() == scope.size() || unit[scope.size()] == '/';
}

std::vector<Area> AreasOf(const Message& request) {
  std::vector<Area> areas;
  CollectAreas(request, 0, &areas);
  if (areas.empty()) areas.push_back(Area{});
  return areas;
}

absl::Status Authorize(const Principal& principal, absl::string_view full_method,
                       const std::vector<Area>& areas) {
  const MethodPolicy* policy = FindMethodPolicy(full_method);
  if (policy == nullptr) {
    return Error(absl::StatusCode::kPermissionDenied, "UNKNOWN_METHOD",
                 absl::StrCat("no policy for method ", full_method), {{"method", full_method}});
  }
  if (!RoleMayDo(principal.role(), policy->action)) {
    return Error(
        absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED",
        absl::StrCat(Who(principal), " may not ", Verb(policy->action), " via ", full_method),
        {{"method", full_method}});
  }
  if (principal.role() == v1::ROLE_DEPARTMENT_INTEGRATION &&
      std::find(principal.methods().begin(), principal.methods().end(), full_method) ==
          principal.methods().end()) {
    return Error(absl::StatusCode::kPermissionDenied, "METHOD_NOT_GRANTED",
                 absl::StrCat(Who(principal), " is not granted ", full_method),
                 {{"method", full_method}});
  }
  if (!policy->scoped) return absl::OkStatus();
  // No area at all is treated as the nation, never as "nothing to check".
  static const std::vector<Area>* const kNation = new std::vector<Area>{Area{}};
  for (const Area& area : areas.empty() ? *kNation : areas) {
    if (AreaAllowed(area, principal.scope())) continue;
    return Error(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                 absl::StrCat(Who(principal), " may not ", Verb(policy->action), " ",
                              UnitLabel(area.unit), " via ", full_method),
                 {{"method", full_method}, {"area", area.unit}});
  }
  return absl::OkStatus();
}

absl::Status AuthorizeOwner(const Principal& principal, absl::string_view owner_unit) {
  if (principal.role() == v1::ROLE_UNSPECIFIED) {
    return Error(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED",
                 absl::StrCat(Who(principal), " may not act on ", UnitLabel(owner_unit)));
  }
  if (Within(owner_unit, principal.scope())) return absl::OkStatus();
  return Error(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
               absl::StrCat(Who(principal), " may not act on ", UnitLabel(owner_unit),
                            ", which is outside its scope"),
               {{"area", owner_unit}});
}

std::string RoleName(Role role) {
  switch (role) {
    case v1::ROLE_MINISTRY_ADMIN:
      return "ministry_admin";
    case v1::ROLE_PROVINCE_EDITOR:
      return "province_editor";
    case v1::ROLE_PROVINCE_APPROVER:
      return "province_approver";
    case v1::ROLE_COMMUNE_EDITOR:
      return "commune_editor";
    case v1::ROLE_DEPARTMENT_INTEGRATION:
      return "department_integration";
    case v1::ROLE_AUDITOR:
      return "auditor";
    case v1::ROLE_SERVICE:
      return "service";
    default:
      return "unspecified";
  }
}

absl::optional<Role> ParseRoleName(absl::string_view name) {
  for (Role role : {v1::ROLE_MINISTRY_ADMIN, v1::ROLE_PROVINCE_EDITOR, v1::ROLE_PROVINCE_APPROVER,
                    v1::ROLE_COMMUNE_EDITOR, v1::ROLE_DEPARTMENT_INTEGRATION, v1::ROLE_AUDITOR,
                    v1::ROLE_SERVICE}) {
    if (RoleName(role) == name) return role;
  }
  return absl::nullopt;
}

}  // namespace htx::auth
