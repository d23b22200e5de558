// Authorization: which role may call which method about which area. Deny by
// default: a method without a policy entry is refused. The gateway and every
// service apply the same rules (the services also check the unit that owns a
// stored object, which the gateway cannot see).
#ifndef HTX_COMMON_AUTH_POLICY_H_
#define HTX_COMMON_AUTH_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/message.h"
#include "htx/auth/v1/principal.pb.h"

namespace htx::auth {

using v1::Principal;
using v1::Role;

// What a method does, which decides the roles allowed to call it.
enum class Action {
  kRead,      // Get/List/counts/tables: every role (department: if granted)
  kWrite,     // data entry: ministry, province and commune editors, granted departments
  kApprove,   // submission workflow decisions: ministry, province approver
  kAdmin,     // catalogs, official unit lists, campaigns: ministry only
  kAudit,     // the gateway's audit log: auditor and ministry
  kInternal,  // service-to-service only (locks): ROLE_SERVICE
};

struct MethodPolicy {
  absl::string_view method;  // "/htx.registry.v1.RegistryService/GetOrganization"
  Action action;
  // True when the request names a unit (or a resource under one) that must lie
  // inside the caller's scope; false for global resources (catalogs, campaigns)
  // and the audit log.
  bool scoped;
};

// The policy of a full method name, or nullptr when the method is unknown.
const MethodPolicy* FindMethodPolicy(absl::string_view full_method);
// Every entry, for tests and documentation.
const std::vector<MethodPolicy>& AllMethodPolicies();

// The unit a resource name belongs to.
struct Area {
  std::string unit;  // "" = the nation, "provinces/01", "provinces/01/communes/00004"
  // True when the resource sits in some unit below `unit` that only its owning
  // service knows (an organisation is named under its province but belongs to
  // a commune): the gateway lets a caller scoped below `unit` through, and the
  // service checks the stored owner with AuthorizeOwner.
  bool owner_below = false;
  bool operator==(const Area& other) const {
    return unit == other.unit && owner_below == other.owner_below;
  }
};

// The area of a resource name; nullopt when the name is not under a unit
// ("catalogs/2026", "campaigns/2026"). "" is the nation.
absl::optional<Area> AreaOf(absl::string_view resource_name);

// True when `unit` is `scope` or lies under it ("" contains everything).
bool Within(absl::string_view unit, absl::string_view scope);

// The areas a request names: every non-empty string field called `name`,
// `parent` or `unit` (repeated ones included), at any depth, that lies under a
// unit; also an organisation's `commune` (its owner), and the `parent` of a
// CreateOrganizationRequest counts as owner_below (the new organisation is
// named under its province but belongs to its commune). A request that names
// none is about the nation.
std::vector<Area> AreasOf(const google::protobuf::Message& request);

// OK, or PERMISSION_DENIED (reason ROLE_NOT_ALLOWED, METHOD_NOT_GRANTED,
// OUT_OF_SCOPE or UNKNOWN_METHOD) with a message naming the role, the method
// and the area refused.
absl::Status Authorize(const Principal& principal, absl::string_view full_method,
                       const std::vector<Area>& areas);

// For a service, after loading a stored object: OK when `owner_unit` lies in
// the principal's scope, else PERMISSION_DENIED (OUT_OF_SCOPE).
absl::Status AuthorizeOwner(const Principal& principal, absl::string_view owner_unit);

// "ministry_admin", "province_editor", ... and back (nullopt when unknown).
std::string RoleName(Role role);
absl::optional<Role> ParseRoleName(absl::string_view name);

}  // namespace htx::auth

#endif  // HTX_COMMON_AUTH_POLICY_H_
