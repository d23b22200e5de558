#include "common/auth/credentials.h"

#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "common/auth/policy.h"
#include "common/status/status.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace htx::auth {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Larger tokens are refused before any parsing: no legitimate token comes
// close, and the limit bounds the work an anonymous caller can cause.
constexpr size_t kMaxTokenBytes = 8192;
constexpr int kMinRsaBits = 2048;

absl::Status Unauthenticated(absl::string_view reason, absl::string_view message) {
  return Error(absl::StatusCode::kUnauthenticated, reason, message);
}

absl::Time DefaultNow() { return absl::Now(); }

// ------------------------------------------------------------------ OpenSSL

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

BioPtr MemBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

enum class Alg { kES256, kRS256, kEdDSA };

absl::optional<Alg> ParseAlg(absl::string_view name) {
  if (name == "ES256") return Alg::kES256;
  if (name == "RS256") return Alg::kRS256;
  if (name == "EdDSA") return Alg::kEdDSA;
  return absl::nullopt;
}

absl::string_view AlgName(Alg alg) {
  switch (alg) {
    case Alg::kES256:
      return "ES256";
    case Alg::kRS256:
      return "RS256";
    case Alg::kEdDSA:
      return "EdDSA";
  }
  return "?";
}

// The one algorithm a key may be used with, or an error for keys the suite
// does not accept (other curves, short RSA keys, other types).
absl::StatusOr<Alg> AlgOfKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1 ||
          absl::string_view(group, len) != "prime256v1") {
        return absl::InvalidArgumentError("EC keys must be on P-256 (ES256)");
      }
      return Alg::kES256;
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA keys must have at least ", kMinRsaBits, " bits"));
      }
      return Alg::kRS256;
    case EVP_PKEY_ED25519:
      return Alg::kEdDSA;
    default:
      return absl::InvalidArgumentError("unsupported key type (want P-256, RSA or Ed25519)");
  }
}

// JWS ES256 signatures are R||S, 32 bytes each; OpenSSL speaks DER.
absl::optional<std::string> RawEcdsaToDer(absl::string_view raw) {
  if (raw.size() != 64) return absl::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return absl::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return absl::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) return absl::nullopt;
  return der;
}

absl::optional<std::string> DerEcdsaToRaw(absl::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (sig == nullptr) return absl::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32) return absl::nullopt;
  return raw;
}

bool VerifySignature(EVP_PKEY* key, Alg alg, absl::string_view input, absl::string_view signature) {
  std::string der;
  if (alg == Alg::kES256) {
    absl::optional<std::string> converted = RawEcdsaToDer(signature);
    if (!converted.has_value()) return false;
    der = *std::move(converted);
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  // EdDSA hashes internally: no digest.
  const EVP_MD* md = alg == Alg::kEdDSA ? nullptr : EVP_sha256();
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

absl::StatusOr<std::string> Sign(EVP_PKEY* key, Alg alg, absl::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = alg == Alg::kEdDSA ? nullptr : EVP_sha256();
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
    return absl::InternalError("cannot start signing");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, data,
                     input.size()) != 1) {
    return absl::InternalError("signing failed");
  }
  signature.resize(len);
  if (alg != Alg::kES256) return signature;
  absl::optional<std::string> raw = DerEcdsaToRaw(signature);
  if (!raw.has_value()) return absl::InternalError("cannot convert the ECDSA signature");
  return *std::move(raw);
}

std::string Sha256(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC() with a NULL key pointer would mean "no key": pass a valid pointer.
  static const char kEmpty = 0;
  HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

// ------------------------------------------------------------------- files

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return out.str();
}

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  bool operator==(const FileStamp& o) const {
    return mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && size == o.size && inode == o.inode;
  }
};

int64_t Nanos(const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

// Tells whether a file changed since the last look. The stat is the cheap
// test; a file modified within two seconds of being read is "racy" (the file
// system's timestamps are coarser than writes), so it is read again and
// compared by content until its timestamp is old enough to trust.
class FileWatch {
 public:
  // The new content when the file changed (or on the first look), nullopt
  // when it did not; an error when it cannot be read.
  absl::StatusOr<absl::optional<std::string>> Poll(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat("cannot stat ", path, ": ", strerror(errno)));
    }
    FileStamp stamp{Nanos(st.st_mtim), Nanos(st.st_ctim), static_cast<int64_t>(st.st_size),
                    static_cast<uint64_t>(st.st_ino)};
    if (known_ && stamp == stamp_ && !racy_) return absl::optional<std::string>();
    absl::StatusOr<std::string> content = ReadFile(path);
    if (!content.ok()) return content.status();
    const int64_t now_ns = absl::ToUnixNanos(absl::Now());
    racy_ = std::max(stamp.mtime_ns, stamp.ctime_ns) + int64_t{2000000000} > now_ns;
    stamp_ = stamp;
    std::string digest = Sha256(*content);
    if (known_ && digest == digest_) return absl::optional<std::string>();
    known_ = true;
    digest_ = std::move(digest);
    return absl::optional<std::string>(*std::move(content));
  }

 private:
  bool known_ = false;
  bool racy_ = false;
  FileStamp stamp_;
  std::string digest_;
};

// ----------------------------------------------------------------- claims

absl::StatusOr<Struct> ParseJsonObject(absl::string_view json) {
  Struct object;
  google::protobuf::util::JsonParseOptions options;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &object, options).ok()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return object;
}

const Value* Field(const Struct& object, const char* key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

bool IsString(const Value* v) { return v != nullptr && v->kind_case() == Value::kStringValue; }

// Strict base64url: the JWS alphabet, no padding.
absl::optional<std::string> DecodeSegment(absl::string_view segment) {
  for (char c : segment) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return absl::nullopt;
    }
  }
  std::string out;
  if (!absl::WebSafeBase64Unescape(segment, &out)) return absl::nullopt;
  return out;
}

// A scope is "" (the nation) or a unit: a province, commune or agency.
bool ValidScope(absl::string_view scope) {
  if (scope.empty()) return true;
  absl::optional<Area> area = AreaOf(scope);
  if (!area.has_value() || area->owner_below || area->unit != scope) return false;
  for (absl::string_view part : absl::StrSplit(scope, '/')) {
    if (part.empty()) return false;
  }
  return true;
}

absl::StatusOr<absl::Time> NumericDate(const Value& value, absl::string_view claim) {
  if (value.kind_case() != Value::kNumberValue || !std::isfinite(value.number_value())) {
    return Unauthenticated("TOKEN_CLAIMS", absl::StrCat("claim ", claim, " must be a number"));
  }
  return absl::UnixEpoch() + absl::Seconds(value.number_value());
}

absl::Status CheckMethods(const Value* methods, Principal* principal) {
  if (methods == nullptr || methods->kind_case() == Value::kNullValue) return absl::OkStatus();
  if (methods->kind_case() != Value::kListValue) {
    return Unauthenticated("TOKEN_CLAIMS", "claim methods must be an array of method names");
  }
  for (const Value& m : methods->list_value().values()) {
    if (m.kind_case() != Value::kStringValue) {
      return Unauthenticated("TOKEN_CLAIMS", "claim methods must be an array of method names");
    }
    principal->add_methods(m.string_value());
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------- JwtVerifier

class JwtVerifier::Impl {
 public:
  struct Key {
    PkeyPtr pkey;
    Alg alg;
  };
  using KeyMap = absl::flat_hash_map<std::string, Key>;

  explicit Impl(JwtOptions options) : options_(std::move(options)) {
    for (const std::string& name : options_.algorithms) pinned_.push_back(*ParseAlg(name));
  }

  absl::Status Scan(absl::Time now) const ABSL_LOCKS_EXCLUDED(scan_mu_, mu_) {
    absl::MutexLock scan_lock(&scan_mu_);
    return ScanLocked(now);
  }

  std::shared_ptr<const KeyMap> Keys(absl::Time now) const ABSL_LOCKS_EXCLUDED(scan_mu_, mu_) {
    {
      absl::ReaderMutexLock lock(&mu_);
      if (now < next_scan_) return keys_;
    }
    // One thread rescans; the others go on with the keys they have.
    if (scan_mu_.TryLock()) {
      (void)ScanLocked(now);
      scan_mu_.Unlock();
    }
    absl::ReaderMutexLock lock(&mu_);
    return keys_;
  }

  absl::StatusOr<Principal> Verify(absl::string_view token) const;

 private:
  struct FileState {
    FileWatch watch;
    absl::optional<Key> key;
  };

  // Reads the keys directory; an error only when it cannot be listed.
  absl::Status ScanLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_) {
    DIR* dir = opendir(options_.keys_dir.c_str());
    if (dir == nullptr) {
      // Keep the keys we have: a directory briefly unavailable is no reason
      // to refuse every caller.
      absl::MutexLock lock(&mu_);
      next_scan_ = now + options_.reload_interval;
      return absl::InvalidArgumentError(
          absl::StrCat("cannot list keys dir ", options_.keys_dir, ": ", strerror(errno)));
    }
    std::vector<std::string> names;
    while (dirent* entry = readdir(dir)) {
      absl::string_view name = entry->d_name;
      if (name.size() > 4 && absl::EndsWith(name, ".pem") && name[0] != '.') {
        names.emplace_back(name);
      }
    }
    closedir(dir);

    bool changed = false;
    absl::flat_hash_map<std::string, FileState> files;
    for (std::string& name : names) {
      FileState state;
      if (auto it = files_.find(name); it != files_.end()) state = std::move(it->second);
      const std::string path = absl::StrCat(options_.keys_dir, "/", name);
      absl::StatusOr<absl::optional<std::string>> content = state.watch.Poll(path);
      if (!content.ok()) continue;  // removed between listing and reading
      if (content->has_value()) {
        absl::StatusOr<Key> key = ParsePublicKey(**content);
        if (key.ok()) {
          state.key = *std::move(key);
          changed = true;
        } else {
          std::fprintf(stderr, "jwt keys: ignoring %s: %s%s\n", path.c_str(),
                       std::string(key.status().message()).c_str(),
                       state.key.has_value() ? " (keeping the previous key)" : "");
        }
      }
      files.emplace(std::move(name), std::move(state));
    }
    if (files.size() != files_.size()) changed = true;
    files_ = std::move(files);

    std::shared_ptr<const KeyMap> snapshot;
    if (changed) {
      auto keys = std::make_shared<KeyMap>();
      for (const auto& [name, state] : files_) {
        if (!state.key.has_value()) continue;
        keys->emplace(name.substr(0, name.size() - 4), *state.key);
      }
      snapshot = std::move(keys);
    }
    absl::MutexLock lock(&mu_);
    if (snapshot != nullptr) keys_ = std::move(snapshot);
    next_scan_ = now + options_.reload_interval;
    return absl::OkStatus();
  }

  static absl::StatusOr<Key> ParsePublicKey(absl::string_view pem) {
    BioPtr bio = MemBio(pem);
    UniquePkey pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (pkey == nullptr) return absl::InvalidArgumentError("not a PEM public key");
    absl::StatusOr<Alg> alg = AlgOfKey(pkey.get());
    if (!alg.ok()) return alg.status();
    return Key{PkeyPtr(pkey.release(), PkeyFree()), *alg};
  }

  bool Pinned(Alg alg) const {
    return std::find(pinned_.begin(), pinned_.end(), alg) != pinned_.end();
  }

  const JwtOptions options_;
  std::vector<Alg> pinned_;

  // Held by the thread rescanning the directory; guards files_.
  mutable absl::Mutex scan_mu_;
  mutable absl::flat_hash_map<std::string, FileState> files_
      ABSL_GUARDED_BY(scan_mu_);  // by file name

  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const KeyMap> keys_ ABSL_GUARDED_BY(mu_) = std::make_shared<KeyMap>();
  mutable absl::Time next_scan_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

absl::StatusOr<Principal> JwtVerifier::Impl::Verify(absl::string_view token) const {
  if (token.empty()) return Unauthenticated("TOKEN_MALFORMED", "empty token");
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated("TOKEN_MALFORMED", "token longer than 8 KiB");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Unauthenticated("TOKEN_MALFORMED", "a JWT has three dot-separated parts");
  }
  absl::optional<std::string> header_json = DecodeSegment(parts[0]);
  if (!header_json.has_value()) {
    return Unauthenticated("TOKEN_MALFORMED", "header is not base64url");
  }
  absl::StatusOr<Struct> header = ParseJsonObject(*header_json);
  if (!header.ok()) return Unauthenticated("TOKEN_MALFORMED", "header is not a JSON object");

  const Value* alg_value = Field(*header, "alg");
  if (!IsString(alg_value)) return Unauthenticated("TOKEN_ALGORITHM", "header has no alg");
  absl::optional<Alg> alg = ParseAlg(alg_value->string_value());
  if (!alg.has_value() || !Pinned(*alg)) {
    return Unauthenticated(
        "TOKEN_ALGORITHM",
        absl::StrCat("algorithm \"", alg_value->string_value(), "\" is not accepted"));
  }
  // Extensions the verifier would have to understand: none are supported.
  if (Field(*header, "crit") != nullptr) {
    return Unauthenticated("TOKEN_MALFORMED", "header has unsupported crit extensions");
  }
  const Value* kid = Field(*header, "kid");
  if (!IsString(kid) || kid->string_value().empty()) {
    return Unauthenticated("TOKEN_UNKNOWN_KEY", "header has no kid");
  }
  const absl::Time now = options_.clock();
  std::shared_ptr<const KeyMap> keys = Keys(now);
  auto key = keys->find(kid->string_value());
  if (key == keys->end()) {
    return Unauthenticated("TOKEN_UNKNOWN_KEY",
                           absl::StrCat("unknown key id \"", kid->string_value(), "\""));
  }
  if (key->second.alg != *alg) {
    return Unauthenticated("TOKEN_ALGORITHM",
                           absl::StrCat("key \"", key->first, "\" is for ",
                                        AlgName(key->second.alg), ", not ", AlgName(*alg)));
  }
  absl::optional<std::string> signature = DecodeSegment(parts[2]);
  if (!signature.has_value()) {
    return Unauthenticated("TOKEN_MALFORMED", "signature is not base64url");
  }
  const absl::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!VerifySignature(key->second.pkey.get(), *alg, signing_input, *signature)) {
    return Unauthenticated("TOKEN_SIGNATURE", "signature does not verify");
  }

  absl::optional<std::string> payload_json = DecodeSegment(parts[1]);
  if (!payload_json.has_value()) {
    return Unauthenticated("TOKEN_MALFORMED", "payload is not base64url");
  }
  absl::StatusOr<Struct> claims = ParseJsonObject(*payload_json);
  if (!claims.ok()) return Unauthenticated("TOKEN_MALFORMED", "payload is not a JSON object");

  const Value* exp = Field(*claims, "exp");
  if (exp == nullptr) return Unauthenticated("TOKEN_CLAIMS", "claim exp is required");
  absl::StatusOr<absl::Time> expires = NumericDate(*exp, "exp");
  if (!expires.ok()) return expires.status();
  if (now > *expires + options_.leeway) {
    return Unauthenticated("TOKEN_EXPIRED",
                           absl::StrCat("token expired at ", absl::FormatTime(*expires)));
  }
  if (const Value* nbf = Field(*claims, "nbf"); nbf != nullptr) {
    absl::StatusOr<absl::Time> not_before = NumericDate(*nbf, "nbf");
    if (!not_before.ok()) return not_before.status();
    if (now + options_.leeway < *not_before) {
      return Unauthenticated("TOKEN_NOT_YET_VALID", absl::StrCat("token not valid before ",
                                                                 absl::FormatTime(*not_before)));
    }
  }
  const Value* iss = Field(*claims, "iss");
  if (!IsString(iss) || iss->string_value() != options_.issuer) {
    return Unauthenticated("TOKEN_ISSUER",
                           absl::StrCat("issuer must be \"", options_.issuer, "\""));
  }
  const Value* aud = Field(*claims, "aud");
  bool audience_ok = IsString(aud) && aud->string_value() == options_.audience;
  if (aud != nullptr && aud->kind_case() == Value::kListValue) {
    for (const Value& a : aud->list_value().values()) {
      if (IsString(&a) && a.string_value() == options_.audience) audience_ok = true;
    }
  }
  if (!audience_ok) {
    return Unauthenticated("TOKEN_AUDIENCE",
                           absl::StrCat("audience must include \"", options_.audience, "\""));
  }
  const Value* sub = Field(*claims, "sub");
  if (!IsString(sub) || sub->string_value().empty()) {
    return Unauthenticated("TOKEN_CLAIMS", "claim sub is required");
  }
  const Value* role_value = Field(*claims, "role");
  if (!IsString(role_value)) return Unauthenticated("TOKEN_CLAIMS", "claim role is required");
  absl::optional<Role> role = ParseRoleName(role_value->string_value());
  if (!role.has_value()) {
    return Unauthenticated("TOKEN_CLAIMS",
                           absl::StrCat("unknown role \"", role_value->string_value(), "\""));
  }
  if (*role == v1::ROLE_SERVICE) {
    return Unauthenticated("TOKEN_CLAIMS", "role service is never granted by a token");
  }
  const Value* scope = Field(*claims, "scope");
  if (!IsString(scope)) {
    return Unauthenticated("TOKEN_CLAIMS", "claim scope is required (\"\" for the nation)");
  }
  if (!ValidScope(scope->string_value())) {
    return Unauthenticated("TOKEN_CLAIMS",
                           absl::StrCat("scope \"", scope->string_value(), "\" is not a unit"));
  }
  Principal principal;
  principal.set_subject(absl::StrCat("jwt:", iss->string_value(), "#", sub->string_value()));
  principal.set_role(*role);
  principal.set_scope(scope->string_value());
  if (absl::Status s = CheckMethods(Field(*claims, "methods"), &principal); !s.ok()) return s;
  return principal;
}

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(JwtOptions options) {
  if (options.keys_dir.empty()) return InvalidField("keys_dir", "is required");
  if (options.issuer.empty()) return InvalidField("issuer", "is required");
  if (options.audience.empty()) return InvalidField("audience", "is required");
  if (options.algorithms.empty()) return InvalidField("algorithms", "name at least one");
  for (const std::string& alg : options.algorithms) {
    if (!ParseAlg(alg).has_value()) {
      return InvalidField("algorithms",
                          absl::StrCat("\"", alg, "\" is not one of ES256, RS256, EdDSA"));
    }
  }
  if (options.leeway < absl::ZeroDuration()) return InvalidField("leeway", "is negative");
  if (!options.clock) options.clock = DefaultNow;
  const absl::Time now = options.clock();
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Scan(now); !s.ok()) {
    return InvalidField("keys_dir", s.message());
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(std::move(impl)));
}

JwtVerifier::JwtVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtVerifier::~JwtVerifier() = default;

absl::StatusOr<v1::Principal> JwtVerifier::Verify(absl::string_view token) const {
  return impl_->Verify(token);
}

// --------------------------------------------------------------- IdentityFile

namespace {

struct Identities {
  absl::flat_hash_map<std::string, Principal> keys;   // by SHA-256 hex
  absl::flat_hash_map<std::string, Principal> certs;  // by common name
};

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status LineError(const std::string& path, int line, absl::string_view problem) {
  const std::string where = absl::StrCat("line ", line);
  return Error(absl::StatusCode::kInvalidArgument, "IDENTITY_FILE",
               absl::StrCat(path, ":", line, ": ", problem), {{"field", where}});
}

absl::StatusOr<Identities> ParseIdentities(const std::string& path, absl::string_view content) {
  Identities out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    // A comment starts a line or follows whitespace.
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' &&
          (i == 0 || absl::ascii_isspace(static_cast<unsigned char>(line[i - 1])))) {
        line = line.substr(0, i);
        break;
      }
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields.size() != 4 && fields.size() != 5) {
      return LineError(path, line_number,
                       "want \"key:{sha256}|cert:{cn}  name  role  scope|-  [methods]\"");
    }
    Principal principal;
    absl::optional<Role> role = ParseRoleName(fields[2]);
    if (!role.has_value()) {
      return LineError(path, line_number, absl::StrCat("unknown role \"", fields[2], "\""));
    }
    // Service identity is the internal key's, never an outside caller's.
    if (*role == v1::ROLE_SERVICE) {
      return LineError(path, line_number, "role service cannot be granted to a caller");
    }
    principal.set_role(*role);
    const absl::string_view scope = fields[3] == "-" ? absl::string_view() : fields[3];
    if (!ValidScope(scope)) {
      return LineError(
          path, line_number,
          absl::StrCat("scope \"", fields[3], "\" is not a unit (or - for the nation)"));
    }
    principal.set_scope(std::string(scope));
    if (fields.size() == 5) {
      if (*role != v1::ROLE_DEPARTMENT_INTEGRATION) {
        return LineError(path, line_number, "methods are granted to department_integration only");
      }
      for (absl::string_view method : absl::StrSplit(fields[4], ',', absl::SkipEmpty())) {
        if (FindMethodPolicy(method) == nullptr) {
          return LineError(path, line_number, absl::StrCat("unknown method \"", method, "\""));
        }
        principal.add_methods(std::string(method));
      }
    }
    const absl::string_view id = fields[0];
    const absl::string_view name = fields[1];
    if (absl::ConsumePrefix(&fields[0], "key:")) {
      std::string hash = absl::AsciiStrToLower(fields[0]);
      if (hash.size() != 64 || !IsLowerHex(hash)) {
        return LineError(path, line_number, "key: wants the 64 hex digits of the key's SHA-256");
      }
      principal.set_subject(absl::StrCat("key:", name));
      if (!out.keys.emplace(std::move(hash), std::move(principal)).second) {
        return LineError(path, line_number, "this key is listed twice");
      }
    } else if (absl::ConsumePrefix(&fields[0], "cert:") && !fields[0].empty()) {
      principal.set_subject(absl::StrCat("cert:", name));
      if (!out.certs.emplace(std::string(fields[0]), std::move(principal)).second) {
        return LineError(path, line_number, "this certificate is listed twice");
      }
    } else {
      return LineError(path, line_number,
                       absl::StrCat("\"", id, "\" is neither key:{sha256} nor cert:{common name}"));
    }
  }
  return out;
}

}  // namespace

class IdentityFile::Impl {
 public:
  Impl(std::string path, absl::Duration reload_interval, Clock clock)
      : path_(std::move(path)), reload_interval_(reload_interval), clock_(std::move(clock)) {}

  absl::Status Load(absl::Time now) {
    absl::MutexLock scan_lock(&scan_mu_);
    absl::StatusOr<absl::optional<std::string>> content = watch_.Poll(path_);
    if (!content.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read identities file ", content.status().message()));
    }
    absl::StatusOr<Identities> parsed = ParseIdentities(path_, content->value_or(""));
    if (!parsed.ok()) return parsed.status();
    absl::MutexLock lock(&mu_);
    identities_ = std::make_shared<const Identities>(*std::move(parsed));
    next_check_ = now + reload_interval_;
    return absl::OkStatus();
  }

  std::shared_ptr<const Identities> Current() const {
    const absl::Time now = clock_();
    {
      absl::ReaderMutexLock lock(&mu_);
      if (now < next_check_) return identities_;
    }
    if (scan_mu_.TryLock()) {
      Reload(now);
      scan_mu_.Unlock();
    }
    absl::ReaderMutexLock lock(&mu_);
    return identities_;
  }

 private:
  // Called with scan_mu_ held. A file that cannot be read or parsed keeps the
  // previous content: a half-edited file must not lock every caller out.
  void Reload(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_) {
    absl::StatusOr<absl::optional<std::string>> content = watch_.Poll(path_);
    std::shared_ptr<const Identities> fresh;
    if (!content.ok()) {
      std::fprintf(stderr, "identities: %s; keeping the previous content\n",
                   std::string(content.status().message()).c_str());
    } else if (content->has_value()) {
      absl::StatusOr<Identities> parsed = ParseIdentities(path_, **content);
      if (parsed.ok()) {
        fresh = std::make_shared<const Identities>(*std::move(parsed));
      } else {
        std::fprintf(stderr, "identities: %s; keeping the previous content\n",
                     std::string(parsed.status().message()).c_str());
      }
    }
    absl::MutexLock lock(&mu_);
    if (fresh != nullptr) identities_ = std::move(fresh);
    next_check_ = now + reload_interval_;
  }

  const std::string path_;
  const absl::Duration reload_interval_;
  const Clock clock_;

  mutable absl::Mutex scan_mu_;  // held while reading the file
  mutable FileWatch watch_ ABSL_GUARDED_BY(scan_mu_);

  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Identities> identities_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

absl::StatusOr<std::unique_ptr<IdentityFile>> IdentityFile::Open(std::string path,
                                                                 absl::Duration reload_interval,
                                                                 Clock clock) {
  if (path.empty()) return InvalidField("identities_file", "is required");
  if (!clock) clock = DefaultNow;
  const absl::Time now = clock();
  auto impl = std::make_unique<Impl>(std::move(path), reload_interval, std::move(clock));
  if (absl::Status s = impl->Load(now); !s.ok()) return s;
  return std::unique_ptr<IdentityFile>(new IdentityFile(std::move(impl)));
}

IdentityFile::IdentityFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IdentityFile::~IdentityFile() = default;

absl::StatusOr<v1::Principal> IdentityFile::FindApiKey(absl::string_view api_key) const {
  if (!api_key.empty()) {
    std::shared_ptr<const Identities> identities = impl_->Current();
    auto it = identities->keys.find(HashApiKey(api_key));
    if (it != identities->keys.end()) return it->second;
  }
  return Unauthenticated("API_KEY_UNKNOWN", "the API key is not known");
}

absl::StatusOr<v1::Principal> IdentityFile::FindCertificate(absl::string_view common_name) const {
  if (!common_name.empty()) {
    std::shared_ptr<const Identities> identities = impl_->Current();
    auto it = identities->certs.find(common_name);
    if (it != identities->certs.end()) return it->second;
  }
  return Unauthenticated("CERTIFICATE_UNKNOWN",
                         absl::StrCat("certificate \"", common_name, "\" is not known"));
}

std::string HashApiKey(absl::string_view api_key) {
  return absl::BytesToHexString(Sha256(api_key));
}

// ---------------------------------------------------------------- InternalKey

absl::StatusOr<InternalKey> InternalKey::FromFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) return content.status();
  const absl::string_view hex = absl::StripAsciiWhitespace(*content);
  if (hex.size() % 2 != 0 || !IsLowerHex(absl::AsciiStrToLower(hex))) {
    return absl::InvalidArgumentError(absl::StrCat("internal key file ", path, " is not hex"));
  }
  std::string secret = absl::HexStringToBytes(hex);
  if (secret.size() < 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "internal key file ", path, " holds ", secret.size(), " bytes; at least 32 are needed"));
  }
  return InternalKey(std::move(secret));
}

InternalKey InternalKey::FromBytes(std::string secret) { return InternalKey(std::move(secret)); }

std::string InternalKey::GenerateHex() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no entropy: nothing safe to do
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
}

InternalKey::Signed InternalKey::Sign(const v1::Principal& principal) const {
  Signed out;
  principal.SerializeToString(&out.principal);
  out.signature = HmacSha256(secret_, out.principal);
  return out;
}

absl::StatusOr<v1::Principal> InternalKey::Verify(absl::string_view principal,
                                                  absl::string_view signature,
                                                  absl::Time now) const {
  if (principal.empty()) {
    return Unauthenticated("PRINCIPAL_MISSING", "the call carries no signed principal");
  }
  const std::string expected = HmacSha256(secret_, principal);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return Unauthenticated("PRINCIPAL_SIGNATURE", "the principal's signature does not verify");
  }
  v1::Principal parsed;
  if (!parsed.ParseFromArray(principal.data(), static_cast<int>(principal.size()))) {
    return Unauthenticated("PRINCIPAL_SIGNATURE", "the signed principal does not parse");
  }
  if (now > absl::FromUnixMillis(parsed.expires_unix_ms())) {
    return Unauthenticated("PRINCIPAL_EXPIRED", "the signed principal has expired");
  }
  return parsed;
}

// ------------------------------------------------------------------ minting

absl::StatusOr<KeyPair> GenerateKeyPair(absl::string_view alg_name) {
  absl::optional<Alg> alg = ParseAlg(alg_name);
  if (!alg.has_value()) {
    return InvalidField("alg",
                        absl::StrCat("\"", alg_name, "\" is not one of ES256, RS256, EdDSA"));
  }
  UniquePkey pkey;
  switch (*alg) {
    case Alg::kES256:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case Alg::kRS256:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{kMinRsaBits}));
      break;
    case Alg::kEdDSA:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (pkey == nullptr) return absl::InternalError("key generation failed");
  BioPtr private_bio(BIO_new(BIO_s_mem()));
  BioPtr public_bio(BIO_new(BIO_s_mem()));
  if (private_bio == nullptr || public_bio == nullptr ||
      PEM_write_bio_PrivateKey(private_bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio.get(), pkey.get()) != 1) {
    return absl::InternalError("cannot write the key pair as PEM");
  }
  return KeyPair{BioContents(private_bio.get()), BioContents(public_bio.get())};
}

absl::StatusOr<std::string> SignJwt(absl::string_view private_pem, absl::string_view alg_name,
                                    absl::string_view kid, absl::string_view claims_json) {
  absl::optional<Alg> alg = ParseAlg(alg_name);
  if (!alg.has_value()) {
    return InvalidField("alg",
                        absl::StrCat("\"", alg_name, "\" is not one of ES256, RS256, EdDSA"));
  }
  BioPtr bio = MemBio(private_pem);
  UniquePkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) return InvalidField("private_key", "is not a PEM private key");
  absl::StatusOr<Alg> key_alg = AlgOfKey(pkey.get());
  if (!key_alg.ok()) return InvalidField("private_key", key_alg.status().message());
  if (*key_alg != *alg) {
    return InvalidField("alg", absl::StrCat("the key is for ", AlgName(*key_alg)));
  }
  Struct header;
  (*header.mutable_fields())["alg"].set_string_value(std::string(alg_name));
  (*header.mutable_fields())["typ"].set_string_value("JWT");
  (*header.mutable_fields())["kid"].set_string_value(std::string(kid));
  std::string header_json;
  if (!google::protobuf::util::MessageToJsonString(header, &header_json).ok()) {
    return absl::InternalError("cannot print the JWT header");
  }
  std::string input = absl::StrCat(absl::WebSafeBase64Escape(header_json), ".",
                                   absl::WebSafeBase64Escape(claims_json));
  absl::StatusOr<std::string> signature = Sign(pkey.get(), *alg, input);
  if (!signature.ok()) return signature.status();
  return absl::StrCat(input, ".", absl::WebSafeBase64Escape(*signature));
}

}  // namespace htx::auth
