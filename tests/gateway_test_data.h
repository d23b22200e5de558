// Units and organisations the gateway tests act on: two communes of Hà Nội,
// one commune of Hồ Chí Minh City, one organisation in each commune.
#pragma once

#include <string>

#include "common/testing/testing.h"
#include "htx/registry/v1/registry.grpc.pb.h"
#include "services/registry/registry_harness.h"
#include "services/registry/registry_logic.h"

namespace htx::gateway {

namespace rv1 = ::htx::registry::v1;

inline constexpr char kHanoi[] = "provinces/01";
inline constexpr char kOwnCommune[] = "provinces/01/communes/00004";
inline constexpr char kOtherCommune[] = "provinces/01/communes/00007";
inline constexpr char kHcmc[] = "provinces/79";
inline constexpr char kHcmcCommune[] = "provinces/79/communes/26734";
// One organisation in each commune, created by SeedRegistry.
inline constexpr char kOwnOrganization[] = "provinces/01/organizations/0100000004";
inline constexpr char kOtherOrganization[] = "provinces/01/organizations/0100000007";
inline constexpr char kHcmcOrganization[] = "provinces/79/organizations/7900026734";

inline rv1::Organization SampleOrganization(const std::string& code, const std::string& commune) {
  rv1::Organization o;
  o.set_registration_code(code);
  o.set_kind(rv1::ORGANIZATION_KIND_HTX);
  o.set_display_name("HTX mẫu " + code);
  o.set_commune(commune);
  o.set_sector(rv1::SECTOR_AGRICULTURE);
  *o.mutable_founding_date() = registry::FromDayKey(20200315);
  o.set_members(30);
  return o;
}

inline rv1::CreateOrganizationRequest CreateRequest(const std::string& code,
                                                    const std::string& commune) {
  rv1::CreateOrganizationRequest request;
  request.set_parent(commune.substr(0, commune.find("/communes/")));
  *request.mutable_organization() = SampleOrganization(code, commune);
  return request;
}

// Imports the units and creates the three organisations, as an operator.
inline void SeedRegistry(registry::RegistryHarness& registry) {
  rv1::ImportUnitsRequest units;
  *units.add_units() = registry::MakeUnit(kHanoi, rv1::UNIT_KIND_CITY, "Thành phố Hà Nội");
  *units.add_units() = registry::MakeUnit(kHcmc, rv1::UNIT_KIND_CITY, "Thành phố Hồ Chí Minh");
  *units.add_units() = registry::MakeUnit(kOwnCommune, rv1::UNIT_KIND_WARD, "Phường mẫu 4");
  *units.add_units() = registry::MakeUnit(kOtherCommune, rv1::UNIT_KIND_COMMUNE, "Xã mẫu 7");
  *units.add_units() = registry::MakeUnit(kHcmcCommune, rv1::UNIT_KIND_WARD, "Phường mẫu 26734");
  rv1::ImportUnitsResponse imported;
  HTX_EXPECT_OK(registry.stub().ImportUnits(testing::Context().get(), units, &imported));
  for (const auto& [code, commune] :
       {std::pair{"0100000004", kOwnCommune}, std::pair{"0100000007", kOtherCommune},
        std::pair{"7900026734", kHcmcCommune}}) {
    rv1::Organization created;
    HTX_EXPECT_OK(registry.stub().CreateOrganization(testing::Context().get(),
                                                     CreateRequest(code, commune), &created));
  }
}

}  // namespace htx::gateway
