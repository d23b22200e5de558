// The OpenAPI 3.0.3 document of the JSON edge, built as a google.protobuf.Value
// tree and printed with sorted keys.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/server/log.h"
#include "htx/type/v1/error.pb.h"
#include "services/gateway/connect_edge.h"

namespace htx::gateway {
namespace {

namespace pb = google::protobuf;

pb::Value Str(absl::string_view s) {
  pb::Value value;
  value.set_string_value(std::string(s));
  return value;
}

pb::Value Bool(bool b) {
  pb::Value value;
  value.set_bool_value(b);
  return value;
}

pb::Value Num(double n) {
  pb::Value value;
  value.set_number_value(n);
  return value;
}

pb::Value Obj(std::initializer_list<std::pair<absl::string_view, pb::Value>> fields) {
  pb::Value value;
  auto* object = value.mutable_struct_value()->mutable_fields();
  for (const auto& [key, field] : fields) (*object)[std::string(key)] = field;
  return value;
}

pb::Value List(std::initializer_list<pb::Value> items) {
  pb::Value value;
  auto* list = value.mutable_list_value();
  for (const auto& item : items) *list->add_values() = item;
  return value;
}

pb::Value& Field(pb::Value& object, absl::string_view key) {
  return (*object.mutable_struct_value()->mutable_fields())[std::string(key)];
}

pb::Value Ref(absl::string_view kind, absl::string_view name) {
  return Obj({{"$ref", Str(absl::StrCat("#/components/", kind, "/", name))}});
}

pb::Value Scalar(absl::string_view type, absl::string_view format = "") {
  pb::Value schema = Obj({{"type", Str(type)}});
  if (!format.empty()) Field(schema, "format") = Str(format);
  return schema;
}

// Leading comments of a descriptor, when the pool kept source info (the
// generated pool usually does not).
template <typename D>
std::string Comments(const D* descriptor) {
  pb::SourceLocation location;
  if (!descriptor->GetSourceLocation(&location)) return "";
  return std::string(absl::StripAsciiWhitespace(location.leading_comments));
}

// Prints `value` as indented JSON with object keys sorted (the document is
// the same bytes on every run, unlike a Struct's map order), except that
// `first` keys of this object come first, in that order.
void PrintJson(const pb::Value& value, int indent, std::string* out,
               const std::vector<std::string>& first = {}) {
  const std::string pad(2 * (indent + 1), ' ');
  switch (value.kind_case()) {
    case pb::Value::kStructValue: {
      const auto& fields = value.struct_value().fields();
      std::vector<std::string> keys;
      for (const std::string& key : first) {
        if (fields.count(key)) keys.push_back(key);
      }
      std::set<std::string> rest;
      for (const auto& [key, field] : fields) {
        if (std::find(first.begin(), first.end(), key) == first.end()) rest.insert(key);
      }
      keys.insert(keys.end(), rest.begin(), rest.end());
      if (keys.empty()) {
        *out += "{}";
        return;
      }
      *out += "{\n";
      for (size_t i = 0; i < keys.size(); ++i) {
        absl::StrAppend(out, pad, server::JsonQuote(keys[i]), ": ");
        PrintJson(fields.at(keys[i]), indent + 1, out);
        *out += i + 1 < keys.size() ? ",\n" : "\n";
      }
      absl::StrAppend(out, std::string(2 * indent, ' '), "}");
      return;
    }
    case pb::Value::kListValue: {
      const auto& values = value.list_value().values();
      if (values.empty()) {
        *out += "[]";
        return;
      }
      *out += "[\n";
      for (int i = 0; i < values.size(); ++i) {
        *out += pad;
        PrintJson(values[i], indent + 1, out);
        *out += i + 1 < values.size() ? ",\n" : "\n";
      }
      absl::StrAppend(out, std::string(2 * indent, ' '), "]");
      return;
    }
    case pb::Value::kStringValue:
      *out += server::JsonQuote(value.string_value());
      return;
    case pb::Value::kNumberValue:
      absl::StrAppend(out, value.number_value());
      return;
    case pb::Value::kBoolValue:
      *out += value.bool_value() ? "true" : "false";
      return;
    default:
      *out += "null";
  }
}

// Component schemas from message descriptors, with the proto3 JSON mapping.
class Schemas {
 public:
  // The schema of a message-typed value: a $ref, or inline for the
  // well-known types whose JSON form is not an object of their fields.
  pb::Value OfMessage(const pb::Descriptor* message) {
    if (pb::Value inline_schema; WellKnown(message, &inline_schema)) return inline_schema;
    if (added_.insert(message->full_name()).second) {
      pb::Value schema = Obj({{"type", Str("object")}});
      std::string comments = Comments(message);
      if (!comments.empty()) Field(schema, "description") = Str(comments);
      pb::Value& properties = Field(schema, "properties");
      properties.mutable_struct_value();
      for (int i = 0; i < message->field_count(); ++i) {
        const pb::FieldDescriptor* field = message->field(i);
        pb::Value property = OfField(field);
        std::string field_comments = Comments(field);
        if (!field_comments.empty()) Field(property, "description") = Str(field_comments);
        Field(properties, field->json_name()) = property;
      }
      (*schemas_.mutable_fields())[message->full_name()] = schema;
    }
    return Ref("schemas", message->full_name());
  }

  pb::Value OfEnum(const pb::EnumDescriptor* enumeration) {
    if (enumeration->full_name() == "google.protobuf.NullValue")
      return Obj({{"nullable", Bool(true)}});
    if (added_.insert(enumeration->full_name()).second) {
      pb::Value names;
      auto* list = names.mutable_list_value();
      for (int i = 0; i < enumeration->value_count(); ++i) {
        *list->add_values() = Str(enumeration->value(i)->name());
      }
      pb::Value schema = Obj({{"type", Str("string")}, {"enum", names}});
      std::string comments = Comments(enumeration);
      if (!comments.empty()) Field(schema, "description") = Str(comments);
      (*schemas_.mutable_fields())[enumeration->full_name()] = schema;
    }
    return Ref("schemas", enumeration->full_name());
  }

  pb::Struct& schemas() { return schemas_; }

 private:
  pb::Value OfField(const pb::FieldDescriptor* field) {
    if (field->is_map()) {
      // Map keys are always JSON strings.
      return Obj({{"type", Str("object")},
                  {"additionalProperties", OfSingular(field->message_type()->map_value())}});
    }
    if (field->is_repeated()) return Obj({{"type", Str("array")}, {"items", OfSingular(field)}});
    return OfSingular(field);
  }

  pb::Value OfSingular(const pb::FieldDescriptor* field) {
    switch (field->type()) {
      case pb::FieldDescriptor::TYPE_DOUBLE:
        return Scalar("number", "double");
      case pb::FieldDescriptor::TYPE_FLOAT:
        return Scalar("number", "float");
      // 64-bit integers are JSON strings: a double cannot hold them exactly.
      case pb::FieldDescriptor::TYPE_INT64:
      case pb::FieldDescriptor::TYPE_SINT64:
      case pb::FieldDescriptor::TYPE_SFIXED64:
        return Scalar("string", "int64");
      case pb::FieldDescriptor::TYPE_UINT64:
      case pb::FieldDescriptor::TYPE_FIXED64:
        return Scalar("string", "uint64");
      case pb::FieldDescriptor::TYPE_INT32:
      case pb::FieldDescriptor::TYPE_SINT32:
      case pb::FieldDescriptor::TYPE_SFIXED32:
        return Scalar("integer", "int32");
      case pb::FieldDescriptor::TYPE_UINT32:
      case pb::FieldDescriptor::TYPE_FIXED32: {
        pb::Value schema = Scalar("integer", "int64");
        Field(schema, "minimum") = Num(0);
        return schema;
      }
      case pb::FieldDescriptor::TYPE_BOOL:
        return Scalar("boolean");
      case pb::FieldDescriptor::TYPE_STRING:
        return Scalar("string");
      case pb::FieldDescriptor::TYPE_BYTES:
        return Scalar("string", "byte");
      case pb::FieldDescriptor::TYPE_ENUM:
        return OfEnum(field->enum_type());
      case pb::FieldDescriptor::TYPE_MESSAGE:
      case pb::FieldDescriptor::TYPE_GROUP:
        return OfMessage(field->message_type());
    }
    return Obj({});
  }

  static bool WellKnown(const pb::Descriptor* message, pb::Value* schema) {
    const std::string& name = message->full_name();
    if (name == "google.protobuf.Timestamp") {
      *schema = Scalar("string", "date-time");
    } else if (name == "google.protobuf.Duration") {
      *schema = Obj({{"type", Str("string")},
                     {"pattern", Str(R"(^-?[0-9]+(\.[0-9]{1,9})?s$)")},
                     {"description", Str("seconds with an \"s\" suffix, e.g. \"1.5s\"")}});
    } else if (name == "google.protobuf.FieldMask") {
      *schema = Obj({{"type", Str("string")},
                     {"description", Str("comma-separated lowerCamelCase field paths")}});
    } else if (name == "google.protobuf.DoubleValue") {
      *schema = Scalar("number", "double");
    } else if (name == "google.protobuf.FloatValue") {
      *schema = Scalar("number", "float");
    } else if (name == "google.protobuf.Int64Value") {
      *schema = Scalar("string", "int64");
    } else if (name == "google.protobuf.UInt64Value") {
      *schema = Scalar("string", "uint64");
    } else if (name == "google.protobuf.Int32Value") {
      *schema = Scalar("integer", "int32");
    } else if (name == "google.protobuf.UInt32Value") {
      *schema = Scalar("integer", "int64");
      Field(*schema, "minimum") = Num(0);
    } else if (name == "google.protobuf.BoolValue") {
      *schema = Scalar("boolean");
    } else if (name == "google.protobuf.StringValue") {
      *schema = Scalar("string");
    } else if (name == "google.protobuf.BytesValue") {
      *schema = Scalar("string", "byte");
    } else if (name == "google.protobuf.Struct") {
      *schema = Obj({{"type", Str("object")}, {"additionalProperties", Bool(true)}});
    } else if (name == "google.protobuf.Value") {
      *schema = Obj({{"description", Str("any JSON value")}});
    } else if (name == "google.protobuf.ListValue") {
      *schema = Obj({{"type", Str("array")}, {"items", Obj({})}});
    } else if (name == "google.protobuf.Empty") {
      *schema = Obj({{"type", Str("object")}});
    } else if (name == "google.protobuf.Any") {
      *schema = Obj({{"type", Str("object")},
                     {"properties", Obj({{"@type", Scalar("string")}})},
                     {"required", List({Str("@type")})},
                     {"additionalProperties", Bool(true)}});
    } else {
      return false;
    }
    // Wrappers may be null in JSON.
    if (absl::EndsWith(name, "Value") && name != "google.protobuf.Value" &&
        name != "google.protobuf.ListValue") {
      Field(*schema, "nullable") = Bool(true);
    }
    return true;
  }

  pb::Struct schemas_;
  std::set<std::string> added_;
};

// The Connect error body: code, message and typed details
// (connectrpc.com/docs/protocol#error-end-stream).
pb::Value ConnectErrorSchema(Schemas& schemas) {
  pb::Value codes;
  for (const char* code : {"canceled", "unknown", "invalid_argument", "deadline_exceeded",
                           "not_found", "already_exists", "permission_denied", "resource_exhausted",
                           "failed_precondition", "aborted", "out_of_range", "unimplemented",
                           "internal", "unavailable", "data_loss", "unauthenticated"}) {
    *codes.mutable_list_value()->add_values() = Str(code);
  }
  pb::Value detail =
      Obj({{"type", Str("object")},
           {"required", List({Str("type"), Str("value")})},
           {"properties",
            Obj({{"type", Obj({{"type", Str("string")},
                               {"description", Str("full name of the message, e.g. "
                                                   "htx.type.v1.ErrorInfo")}})},
                 {"value", Obj({{"type", Str("string")},
                                {"format", Str("byte")},
                                {"description", Str("the serialized message, base64 without "
                                                    "padding")}})},
                 {"debug", schemas.OfMessage(type::v1::ErrorInfo::descriptor())}})}});
  return Obj(
      {{"type", Str("object")},
       {"required", List({Str("code")})},
       {"properties", Obj({{"code", Obj({{"type", Str("string")}, {"enum", codes}})},
                           {"message", Scalar("string")},
                           {"details", Obj({{"type", Str("array")}, {"items", detail}})}})}});
}

}  // namespace

std::string OpenApiDocument(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  Schemas schemas;
  pb::Value paths = Obj({});
  pb::Value tags;
  tags.mutable_list_value();
  const pb::Value json_error =
      Obj({{"description", Str("A Connect error; the HTTP status follows its code")},
           {"content",
            Obj({{"application/json", Obj({{"schema", Ref("schemas", "connect.Error")}})}})}});

  for (const pb::ServiceDescriptor* service : services) {
    if (service == nullptr) continue;
    pb::Value tag = Obj({{"name", Str(service->full_name())}});
    std::string service_comments = Comments(service);
    if (!service_comments.empty()) Field(tag, "description") = Str(service_comments);
    *tags.mutable_list_value()->add_values() = tag;

    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* method = service->method(i);
      // Streams are gRPC only; the edge serves unary methods.
      if (method->client_streaming() || method->server_streaming()) continue;
      pb::Value operation = Obj(
          {{"operationId", Str(absl::StrCat(service->name(), "_", method->name()))},
           {"tags", List({Str(service->full_name())})},
           {"parameters", List({Ref("parameters", "ConnectProtocolVersion"),
                                Ref("parameters", "ConnectTimeoutMs")})},
           {"requestBody",
            Obj({{"required", Bool(true)},
                 {"content",
                  Obj({{"application/json",
                        Obj({{"schema", schemas.OfMessage(method->input_type())}})}})}})},
           {"responses",
            Obj({{"200",
                  Obj({{"description", Str("OK")},
                       {"content",
                        Obj({{"application/json",
                              Obj({{"schema", schemas.OfMessage(method->output_type())}})}})}})},
                 {"default", Ref("responses", "ConnectError")}})}});
      std::string comments = Comments(method);
      if (!comments.empty()) {
        std::string summary = comments.substr(0, comments.find('\n'));
        Field(operation, "summary") = Str(summary);
        if (summary != comments) Field(operation, "description") = Str(comments);
      }
      Field(paths, absl::StrCat("/", service->full_name(), "/", method->name())) =
          Obj({{"post", operation}});
    }
  }

  (*schemas.schemas().mutable_fields())["connect.Error"] = ConnectErrorSchema(schemas);
  pb::Value schema_map;
  *schema_map.mutable_struct_value() = schemas.schemas();

  pb::Value document = Obj(
      {{"openapi", Str("3.0.3")},
       {"info", Obj({{"title", Str("HTX Plan JSON API")},
                     {"version", Str("v1")},
                     {"description",
                      Str("The unary methods of the HTX Plan services over HTTP/1.1 with the "
                          "Connect protocol: POST /{package.Service}/{Method} with a JSON body "
                          "in the proto3 JSON mapping. Streaming methods are gRPC only.")}})},
       {"tags", tags},
       {"paths", paths},
       {"components",
        Obj({{"schemas", schema_map},
             {"responses", Obj({{"ConnectError", json_error}})},
             {"parameters",
              Obj({{"ConnectProtocolVersion",
                    Obj({{"name", Str("Connect-Protocol-Version")},
                         {"in", Str("header")},
                         {"required", Bool(false)},
                         {"schema", Obj({{"type", Str("string")}, {"enum", List({Str("1")})}})}})},
                   {"ConnectTimeoutMs",
                    Obj({{"name", Str("Connect-Timeout-Ms")},
                         {"in", Str("header")},
                         {"required", Bool(false)},
                         {"description", Str("deadline of the call in milliseconds")},
                         {"schema",
                          Obj({{"type", Str("string")}, {"pattern", Str("^[0-9]{1,10}$")}})}})}})},
             {"securitySchemes", Obj({{"bearer", Obj({{"type", Str("http")},
                                                      {"scheme", Str("bearer")},
                                                      {"bearerFormat", Str("JWT")}})},
                                      {"apiKey", Obj({{"type", Str("apiKey")},
                                                      {"in", Str("header")},
                                                      {"name", Str("x-api-key")}})}})}})},
       // Either scheme is enough.
       {"security", List({Obj({{"bearer", List({})}}), Obj({{"apiKey", List({})}})})}});

  std::string json;
  PrintJson(document, 0, &json, {"openapi", "info", "security", "tags", "paths", "components"});
  json.push_back('\n');
  return json;
}

}  // namespace htx::gateway
