#include "common/server/tool.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/server/caller.h"
#include "common/server/health_client.h"
#include "common/status/status.h"

namespace htx::server {

absl::StatusOr<std::shared_ptr<grpc::Channel>> ToolChannel(const std::string& addr,
                                                           const std::string& token,
                                                           const std::string& internal_key_file,
                                                           absl::string_view tool) {
  if (!token.empty()) {
    return HeaderChannel(addr, {{"authorization", absl::StrCat("Bearer ", token)}});
  }
  absl::StatusOr<auth::InternalKey> key = auth::InternalKey::FromFile(internal_key_file);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--internal_key_file (or --token): ", key.status().message()));
  }
  return SignedChannel(addr, *std::move(key), OperatorPrincipal(tool));
}

std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

int WaitReady(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
              absl::string_view addr, int timeout_seconds) {
  if (WaitUntilServing(channel, service, absl::Seconds(timeout_seconds))) return 0;
  std::fprintf(stderr, "wait-ready: %s is not serving after %d s\n", std::string(addr).c_str(),
               timeout_seconds);
  return kExitError;
}

int PrintFailure(absl::string_view tool, absl::string_view what, const absl::Status& status) {
  const std::string reason = ErrorReason(status);
  const std::string code = absl::StrCat(absl::StatusCodeToString(status.code()),
                                        reason.empty() ? "" : absl::StrCat(" (", reason, ")"));
  std::fprintf(stderr, "%s: %s: %s: %s\n", std::string(tool).c_str(), std::string(what).c_str(),
               code.c_str(), std::string(status.message()).c_str());
  return kExitError;
}

// ---- text for terminals -----------------------------------------------------

namespace {

// The length of the UTF-8 sequence starting with `lead`.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // a stray continuation byte: one column, never a stall
}

// Combining diacritics (U+0300..U+036F, bytes CC 80..CD AF) take no column:
// Vietnamese written decomposed (NFD) lines up like precomposed text.
bool IsCombiningMark(absl::string_view sequence) {
  if (sequence.size() != 2) return false;
  const auto b0 = static_cast<unsigned char>(sequence[0]);
  const auto b1 = static_cast<unsigned char>(sequence[1]);
  return b0 == 0xCC || (b0 == 0xCD && b1 <= 0xAF);
}

}  // namespace

std::string Suffix(const std::string& enum_name, absl::string_view prefix) {
  absl::string_view name = enum_name;
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

std::string LastSegment(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name : name.substr(slash + 1));
}

size_t Width(absl::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min(SequenceLength(static_cast<unsigned char>(text[i])), text.size() - i);
    if (!IsCombiningMark(text.substr(i, n))) ++width;
    i += n;
  }
  return width;
}

std::string Truncate(absl::string_view text, size_t width) {
  if (Width(text) <= width || width == 0) return std::string(text);
  size_t used = 0;
  size_t end = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min(SequenceLength(static_cast<unsigned char>(text[i])), text.size() - i);
    const bool mark = IsCombiningMark(text.substr(i, n));
    if (!mark && used == width - 1) break;
    if (!mark) ++used;
    i += n;
    end = i;
  }
  return absl::StrCat(absl::StripTrailingAsciiWhitespace(text.substr(0, end)), "…");
}

std::string PadRight(absl::string_view text, size_t width) {
  const size_t w = Width(text);
  return absl::StrCat(text, std::string(width > w ? width - w : 0, ' '));
}
std::string PadLeft(absl::string_view text, size_t width) {
  const size_t w = Width(text);
  return absl::StrCat(std::string(width > w ? width - w : 0, ' '), text);
}

}  // namespace htx::server
