#include "common/api/api.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/status/status.h"
#include "common/storage/keys.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/wire_format_lite.h"

namespace htx::api {

using google::protobuf::util::FieldMaskUtil;

absl::StatusOr<int> ResolvePageSize(int requested) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

namespace {

constexpr uint64_t kDigestStart = 1469598103934665603ULL;

// FNV-1a, continued over `bytes`.
uint64_t DigestMore(uint64_t hash, absl::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  // Sized once: a growing string would be extended and copied as it fills.
  std::string bytes(message.ByteSizeLong(), '\0');
  google::protobuf::io::ArrayOutputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
  return bytes;
}

// The digest of a message of type `type_name` serialized as `bytes`.
uint64_t DigestSerialized(absl::string_view type_name, absl::string_view bytes) {
  return DigestMore(DigestMore(DigestMore(kDigestStart, type_name), "\n"), bytes);
}

}  // namespace

uint64_t Digest(absl::string_view bytes) { return DigestMore(kDigestStart, bytes); }

uint64_t DigestMessage(const google::protobuf::Message& message) {
  return DigestSerialized(message.GetTypeName(), DeterministicBytes(message));
}

uint64_t QueryDigest(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> query(request.New());
  query->CopyFrom(request);
  const auto* descriptor = query->GetDescriptor();
  for (const char* paging : {"page_token", "page_size"}) {
    if (const auto* field = descriptor->FindFieldByName(paging)) {
      query->GetReflection()->ClearField(query.get(), field);
    }
  }
  return DigestMessage(*query);
}

std::string EncodePageToken(uint64_t query_digest, absl::string_view position) {
  return absl::WebSafeBase64Escape(absl::StrCat(storage::EncodeUint64(query_digest), position));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, uint64_t query_digest) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 8) {
    return InvalidField("page_token", "malformed; pass next_page_token as received",
                        "INVALID_PAGE_TOKEN");
  }
  if (storage::DecodeUint64(raw) != query_digest) {
    return InvalidField("page_token",
                        "belongs to a different query; keep the other fields "
                        "of the request unchanged while paging",
                        "INVALID_PAGE_TOKEN");
  }
  return raw.substr(8);
}

absl::StatusOr<Page> StartPage(const google::protobuf::Message& request, int page_size,
                               absl::string_view page_token) {
  Page page;
  absl::StatusOr<int> size = ResolvePageSize(page_size);
  if (!size.ok()) return size.status();
  page.size = *size;
  page.query = QueryDigest(request);
  absl::StatusOr<std::string> position = DecodePageToken(page_token, page.query);
  if (!position.ok()) return position.status();
  page.position = *std::move(position);
  return page;
}

namespace {

// 16 lowercase hex digits, as "%016x" would print them.
std::string Etag(absl::string_view type_name, absl::string_view bytes) {
  uint64_t digest = DigestSerialized(type_name, bytes);
  std::string etag(16, '0');
  for (int i = 15; i >= 0; --i, digest >>= 4) etag[i] = "0123456789abcdef"[digest & 0xf];
  return etag;
}

const google::protobuf::FieldDescriptor* EtagField(const google::protobuf::Message& resource) {
  return resource.GetDescriptor()->FindFieldByName("etag");
}

}  // namespace

std::string ComputeEtag(const google::protobuf::Message& resource) {
  const google::protobuf::FieldDescriptor* field = EtagField(resource);
  if (field == nullptr || !resource.GetReflection()->HasField(resource, field)) {
    return Etag(resource.GetTypeName(), DeterministicBytes(resource));
  }
  std::unique_ptr<google::protobuf::Message> copy(resource.New());
  copy->CopyFrom(resource);
  copy->GetReflection()->ClearField(copy.get(), field);
  return Etag(resource.GetTypeName(), DeterministicBytes(*copy));
}

std::string SerializeWithEtag(google::protobuf::Message* resource) {
  const google::protobuf::FieldDescriptor* field = EtagField(*resource);
  const google::protobuf::Reflection* reflection = resource->GetReflection();
  reflection->ClearField(resource, field);
  std::string bytes = DeterministicBytes(*resource);
  const std::string etag = Etag(resource->GetTypeName(), bytes);
  {
    // A field appended to a serialization is parsed like one written in
    // place, so the bytes need not be written a second time.
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    google::protobuf::internal::WireFormatLite::WriteString(field->number(), etag, &coded);
  }
  reflection->SetString(resource, field, etag);
  return bytes;
}

absl::Status CheckEtag(absl::string_view given, absl::string_view current) {
  if (given.empty() || given == current) return absl::OkStatus();
  return Error(absl::StatusCode::kAborted, "STALE_ETAG",
               "etag: the resource changed since it was read; get it again "
               "and retry",
               {{"field", "etag"}});
}

absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.size() > 64) {
    return InvalidField(field, "at most 64 characters");
  }
  for (char c : request_id) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidField(field, "printable ASCII without spaces only");
    }
  }
  return absl::OkStatus();
}

std::string ScopedRequestId(absl::string_view method, absl::string_view request_id) {
  if (request_id.empty()) return "";
  return absl::StrCat(method, "/", request_id);
}

storage::WriteRequest IdempotentWrite(absl::string_view method, absl::string_view request_id,
                                      const google::protobuf::Message& request,
                                      google::protobuf::Message* response,
                                      std::function<absl::Status(storage::Txn&)> mutate) {
  storage::WriteRequest write;
  write.request_id = ScopedRequestId(method, request_id);
  write.request_digest = DigestMessage(request);
  write.response = response;
  write.mutate = std::move(mutate);
  return write;
}

absl::Status ApplyFieldMask(const google::protobuf::FieldMask& mask,
                            const google::protobuf::Message& source,
                            const std::vector<std::string>& updatable,
                            google::protobuf::Message* target, absl::string_view mask_field) {
  if (mask.paths_size() == 0) {
    return InvalidField(mask_field, "required: name the fields to update", "FIELD_REQUIRED");
  }
  for (const std::string& path : mask.paths()) {
    bool allowed = false;
    for (const std::string& root : updatable) {
      if (path == root || absl::StartsWith(path, root + ".")) allowed = true;
    }
    if (!allowed || !FieldMaskUtil::GetFieldDescriptors(source.GetDescriptor(), path, nullptr)) {
      return InvalidField(mask_field,
                          absl::StrCat("path \"", path, "\" is unknown, immutable or output only"));
    }
  }
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(source, mask, options, target);
  return absl::OkStatus();
}

}  // namespace htx::api
