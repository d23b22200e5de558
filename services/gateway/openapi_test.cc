#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "htx/registry/v1/registry.pb.h"
#include "services/gateway/connect_edge.h"

namespace htx::gateway {
namespace {

namespace pb = google::protobuf;
using ::testing::UnorderedElementsAre;

class OpenApiDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const pb::ServiceDescriptor* registry =
        registry::v1::GetOrganizationRequest::descriptor()->file()->FindServiceByName(
            "RegistryService");
    ASSERT_NE(registry, nullptr);
    std::string json = OpenApiDocument({registry});
    auto status = pb::util::JsonStringToMessage(json, &document_);
    ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << json;
    *root_.mutable_struct_value() = document_;
  }

  static const pb::Value& At(const pb::Value& value, const std::vector<std::string>& keys) {
    const pb::Value* current = &value;
    for (const std::string& key : keys) {
      const auto& fields = current->struct_value().fields();
      auto it = fields.find(key);
      if (it == fields.end()) {
        ADD_FAILURE() << "no key " << key;
        return pb::Value::default_instance();
      }
      current = &it->second;
    }
    return *current;
  }

  const pb::Value& At(const std::vector<std::string>& keys) const { return At(root_, keys); }

  bool Has(const std::vector<std::string>& keys) const {
    const pb::Struct* current = &document_;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = current->fields().find(keys[i]);
      if (it == current->fields().end()) return false;
      current = &it->second.struct_value();
    }
    return true;
  }

  // Every "$ref" anywhere under `value`.
  static void CollectRefs(const pb::Value& value, std::vector<std::string>* refs) {
    if (value.has_struct_value()) {
      for (const auto& [key, field] : value.struct_value().fields()) {
        if (key == "$ref") refs->push_back(field.string_value());
        CollectRefs(field, refs);
      }
    } else if (value.has_list_value()) {
      for (const auto& item : value.list_value().values()) CollectRefs(item, refs);
    }
  }

  pb::Struct document_;
  pb::Value root_;  // document_ as a Value, for At()
};

TEST_F(OpenApiDocumentTest, DescribesTheUnaryMethods) {
  EXPECT_EQ(At({"openapi"}).string_value(), "3.0.3");
  EXPECT_EQ(At({"info", "title"}).string_value(), "HTX Plan JSON API");
  EXPECT_EQ(At({"info", "version"}).string_value(), "v1");

  const std::string path = "/htx.registry.v1.RegistryService/GetOrganization";
  ASSERT_TRUE(Has({"paths", path, "post"}));
  EXPECT_EQ(At({"paths", path, "post", "operationId"}).string_value(),
            "RegistryService_GetOrganization");
  EXPECT_EQ(
      At({"paths", path, "post", "requestBody", "content", "application/json", "schema", "$ref"})
          .string_value(),
      "#/components/schemas/htx.registry.v1.GetOrganizationRequest");
  EXPECT_EQ(At({"paths", path, "post", "responses", "200", "content", "application/json", "schema",
                "$ref"})
                .string_value(),
            "#/components/schemas/htx.registry.v1.Organization");
  EXPECT_TRUE(Has({"paths", path, "post", "responses", "default"}));

  // Streams are gRPC only.
  EXPECT_FALSE(Has({"paths", "/htx.registry.v1.RegistryService/ImportRegistry"}));
  EXPECT_TRUE(Has({"paths", "/htx.registry.v1.RegistryService/ListChanges"}));
}

TEST_F(OpenApiDocumentTest, IsTheSameBytesEachTime) {
  const pb::ServiceDescriptor* registry =
      registry::v1::GetOrganizationRequest::descriptor()->file()->FindServiceByName(
          "RegistryService");
  std::string document = OpenApiDocument({registry});
  EXPECT_EQ(OpenApiDocument({registry}), document);
  EXPECT_TRUE(absl::StartsWith(document, "{\n  \"openapi\": \"3.0.3\"")) << document.substr(0, 40);
}

TEST_F(OpenApiDocumentTest, SchemasFollowTheProto3JsonMapping) {
  const std::vector<std::string> organization = {"components", "schemas",
                                                 "htx.registry.v1.Organization"};
  ASSERT_TRUE(Has(organization));
  auto property = [&](const std::string& name) {
    std::vector<std::string> keys = organization;
    keys.push_back("properties");
    keys.push_back(name);
    return At(keys);
  };
  EXPECT_EQ(At(property("registrationCode"), {"type"}).string_value(), "string");
  EXPECT_EQ(At(property("members"), {"type"}).string_value(), "string");
  EXPECT_EQ(At(property("members"), {"format"}).string_value(), "int64");
  EXPECT_EQ(At(property("eventCount"), {"type"}).string_value(), "integer");
  EXPECT_EQ(At(property("createTime"), {"format"}).string_value(), "date-time");
  EXPECT_EQ(At(property("classifications"), {"type"}).string_value(), "array");
  EXPECT_EQ(At(property("classifications"), {"items", "$ref"}).string_value(),
            "#/components/schemas/htx.registry.v1.Classification");
  EXPECT_EQ(At(property("kind"), {"$ref"}).string_value(),
            "#/components/schemas/htx.registry.v1.OrganizationKind");
  EXPECT_EQ(At(property("flags"), {"$ref"}).string_value(),
            "#/components/schemas/htx.registry.v1.OrganizationFlags");
  EXPECT_EQ(At(At({"components", "schemas", "htx.registry.v1.OrganizationFlags"}),
               {"properties", "highTech", "type"})
                .string_value(),
            "boolean");

  const pb::Value& kind = At({"components", "schemas", "htx.registry.v1.OrganizationKind"});
  EXPECT_EQ(At(kind, {"type"}).string_value(), "string");
  std::vector<std::string> names;
  for (const auto& value : At(kind, {"enum"}).list_value().values()) {
    names.push_back(value.string_value());
  }
  EXPECT_THAT(names, ::testing::Contains("ORGANIZATION_KIND_HTX"));

  EXPECT_EQ(At({"components", "schemas", "htx.registry.v1.UpdateOrganizationRequest", "properties",
                "updateMask", "type"})
                .string_value(),
            "string");
  // The error metadata map.
  EXPECT_EQ(At({"components", "schemas", "htx.type.v1.ErrorInfo", "properties", "metadata",
                "additionalProperties", "type"})
                .string_value(),
            "string");
}

TEST_F(OpenApiDocumentTest, EveryReferenceResolves) {
  std::vector<std::string> refs;
  CollectRefs(root_, &refs);
  ASSERT_FALSE(refs.empty());
  for (const std::string& ref : refs) {
    absl::string_view rest = ref;
    ASSERT_TRUE(absl::ConsumePrefix(&rest, "#/components/")) << ref;
    size_t slash = rest.find('/');
    ASSERT_NE(slash, absl::string_view::npos) << ref;
    EXPECT_TRUE(Has(
        {"components", std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))}))
        << ref;
  }
}

TEST_F(OpenApiDocumentTest, DeclaresBearerAndApiKeySecurity) {
  EXPECT_EQ(At({"components", "securitySchemes", "bearer", "scheme"}).string_value(), "bearer");
  EXPECT_EQ(At({"components", "securitySchemes", "bearer", "bearerFormat"}).string_value(), "JWT");
  EXPECT_EQ(At({"components", "securitySchemes", "apiKey", "in"}).string_value(), "header");
  EXPECT_EQ(At({"components", "securitySchemes", "apiKey", "name"}).string_value(), "x-api-key");
  std::vector<std::string> alternatives;
  for (const auto& requirement : At({"security"}).list_value().values()) {
    for (const auto& [scheme, scopes] : requirement.struct_value().fields()) {
      alternatives.push_back(scheme);
    }
  }
  EXPECT_THAT(alternatives, UnorderedElementsAre("bearer", "apiKey"));
  EXPECT_TRUE(Has({"components", "schemas", "connect.Error"}));
}

}  // namespace
}  // namespace htx::gateway
