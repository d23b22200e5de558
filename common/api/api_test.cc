#include "common/api/api.h"

#include "absl/strings/str_format.h"
#include "common/testing/testing.h"
#include "google/protobuf/field_mask.pb.h"
#include "gtest/gtest.h"
#include "htx/type/v1/change.pb.h"
#include "htx/type/v1/error.pb.h"
#include "htx/type/v1/lock.pb.h"

namespace htx::api {
namespace {

using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIsWithReason;

TEST(PageSizeTest, DefaultsCapsAndRejectsNegative) {
  EXPECT_EQ(*ResolvePageSize(0), kDefaultPageSize);
  EXPECT_EQ(*ResolvePageSize(7), 7);
  EXPECT_EQ(*ResolvePageSize(kMaxPageSize + 1), kMaxPageSize);
  EXPECT_THAT(ResolvePageSize(-1), InvalidArgumentFor("page_size"));
}

TEST(PageTokenTest, RoundTripsForTheSameQueryOnly) {
  type::v1::ListChangesRequest request;
  request.set_after_sequence(5);
  request.set_page_size(10);
  const uint64_t query = QueryDigest(request);
  std::string token = EncodePageToken(query, "position/7");
  auto decoded = DecodePageToken(token, query);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "position/7");

  // Paging fields do not change the query; filters do.
  request.set_page_size(20);
  request.set_page_token(token);
  EXPECT_EQ(QueryDigest(request), query);
  request.set_after_sequence(6);
  EXPECT_THAT(DecodePageToken(token, QueryDigest(request)), InvalidArgumentFor("page_token"));
  EXPECT_THAT(DecodePageToken("%%%not-base64", query), InvalidArgumentFor("page_token"));
  EXPECT_EQ(*DecodePageToken("", query), "");
}

TEST(EtagTest, ChangesWithContentAndIgnoresItself) {
  type::v1::ErrorInfo info;
  info.set_reason("A");
  std::string etag = ComputeEtag(info);
  EXPECT_EQ(ComputeEtag(info), etag);
  info.set_reason("B");
  EXPECT_NE(ComputeEtag(info), etag);
  // Etags already handed out stay valid: the digest in 16 hex digits.
  EXPECT_EQ(ComputeEtag(info), absl::StrFormat("%016x", DigestMessage(info)));
  HTX_ASSERT_OK(CheckEtag("", etag));
  HTX_ASSERT_OK(CheckEtag(etag, etag));
  EXPECT_THAT(CheckEtag("stale", etag),
              StatusIsWithReason(absl::StatusCode::kAborted, "STALE_ETAG"));
}

TEST(EtagTest, AResourcesOwnEtagDoesNotChangeIt) {
  type::v1::Lock lock;
  lock.set_name("provinces/01/budget-locks/2026");
  lock.set_locked(true);
  const std::string cleared = ComputeEtag(lock);  // no etag: digested as it is
  lock.set_etag(cleared);
  EXPECT_EQ(ComputeEtag(lock), cleared);  // with one: digested without it
  lock.set_etag("something else");
  EXPECT_EQ(ComputeEtag(lock), cleared);
  lock.set_holder("provinces/01/submissions/2026-plan");
  EXPECT_NE(ComputeEtag(lock), cleared);
}

TEST(EtagTest, SerializeWithEtagStoresTheEtagComputeEtagGives) {
  type::v1::Lock lock;
  lock.set_name("provinces/01/budget-locks/2026");
  lock.set_locked(true);
  lock.set_etag("stale");
  const std::string bytes = SerializeWithEtag(&lock);
  EXPECT_EQ(lock.etag(), ComputeEtag(lock));
  EXPECT_NE(lock.etag(), "stale");
  type::v1::Lock parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.SerializeAsString(), lock.SerializeAsString());
}

TEST(RequestIdTest, AcceptsPrintableUpTo64) {
  HTX_ASSERT_OK(ValidateRequestId(""));
  HTX_ASSERT_OK(ValidateRequestId(std::string(64, 'a')));
  EXPECT_THAT(ValidateRequestId(std::string(65, 'a')), InvalidArgumentFor("request_id"));
  EXPECT_THAT(ValidateRequestId("has space"), InvalidArgumentFor("request_id"));
  EXPECT_EQ(ScopedRequestId("M", ""), "");
  EXPECT_EQ(ScopedRequestId("M", "x"), "M/x");
}

TEST(FieldMaskTest, AppliesAllowedPathsAndRejectsOthers) {
  type::v1::Change source, target;
  source.set_resource("new");
  source.set_request_id("rid");
  target.set_resource("old");
  target.set_request_id("keep");
  google::protobuf::FieldMask mask;
  mask.add_paths("resource");
  HTX_ASSERT_OK(ApplyFieldMask(mask, source, {"resource"}, &target));
  EXPECT_EQ(target.resource(), "new");
  EXPECT_EQ(target.request_id(), "keep");

  mask.add_paths("request_id");
  EXPECT_THAT(ApplyFieldMask(mask, source, {"resource"}, &target),
              InvalidArgumentFor("update_mask"));
  google::protobuf::FieldMask unknown;
  unknown.add_paths("no_such_field");
  EXPECT_THAT(ApplyFieldMask(unknown, source, {"no_such_field"}, &target),
              InvalidArgumentFor("update_mask"));
  EXPECT_THAT(ApplyFieldMask(google::protobuf::FieldMask(), source, {"resource"}, &target),
              InvalidArgumentFor("update_mask"));
}

}  // namespace
}  // namespace htx::api
