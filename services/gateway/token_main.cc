// htx-token: makes the suite's credentials. Key pairs for JWT issuers,
// tokens for testing and scripts, API keys with their identities-file line,
// and the internal key the gateway signs principals with.
#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/credentials.h"
#include "common/auth/policy.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(std::string, keys_dir, "", "keygen: the JWT public keys directory");
ABSL_FLAG(std::string, kid, "local-1", "key id: the public key file is {keys_dir}/{kid}.pem");
ABSL_FLAG(std::string, alg, "ES256", "ES256, RS256 or EdDSA");
ABSL_FLAG(std::string, private_key, "", "keygen: where to write it; mint: the key to sign with");
ABSL_FLAG(std::string, issuer, "", "mint: the iss claim");
ABSL_FLAG(std::string, audience, "", "mint: the aud claim");
ABSL_FLAG(std::string, subject, "", "mint: the sub claim");
ABSL_FLAG(std::string, role, "", "mint, api-key: ministry_admin, province_editor, ...");
ABSL_FLAG(std::string, scope, "", "mint, api-key: a unit (provinces/01, ...) or - for the nation");
ABSL_FLAG(std::string, methods, "", "mint, api-key: granted full method names, comma-separated");
ABSL_FLAG(int64_t, ttl_seconds, 3600, "mint: token lifetime");
ABSL_FLAG(std::string, name, "", "api-key: the identity's name (subject key:{name})");
ABSL_FLAG(std::string, out, "", "internal-key: the file to write");

namespace htx::auth {
namespace {

constexpr int kUsage = 2;   // bad command line
constexpr int kFailed = 1;  // a well-formed command that could not be done

constexpr char kUsageText[] = R"(makes the suite's credentials.
  htx-token keygen --keys_dir=DIR [--kid=local-1] [--alg=ES256] --private_key=FILE
  htx-token mint --private_key=FILE --kid=K [--alg=ES256] --issuer=I --audience=A --subject=S
                 --role=R --scope=U|- [--methods=a,b] [--ttl_seconds=3600]
  htx-token api-key --name=N --role=R --scope=U|- [--methods=a,b]
  htx-token internal-key --out=FILE)";

int UsageError(const std::string& message) {
  std::fprintf(stderr, "htx-token: %s\n", message.c_str());
  return kUsage;
}

int Failure(const std::string& message) {
  std::fprintf(stderr, "htx-token: %s\n", message.c_str());
  return kFailed;
}

// Writes a new file with `mode`; never replaces an existing one, so a key
// cannot be overwritten by a slip of the command line.
bool WriteNewFile(const std::string& path, const std::string& content, mode_t mode,
                  std::string* error) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = absl::StrCat("cannot create ", path, ": ", std::strerror(errno));
    return false;
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = absl::StrCat("cannot write ", path, ": ", std::strerror(errno));
      close(fd);
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    *error = absl::StrCat("cannot write ", path, ": ", std::strerror(errno));
    return false;
  }
  return true;
}

bool ValidKid(absl::string_view kid) {
  if (kid.empty() || kid.size() > 64 || kid[0] == '.') return false;
  for (char c : kid) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// The role, scope and methods flags shared by mint and api-key; an error
// message when they are unusable.
struct Grant {
  Role role;
  std::string scope;  // "" = the nation
  std::vector<std::string> methods;
};

bool ParseGrant(Grant* grant, std::string* error) {
  absl::optional<Role> role = ParseRoleName(absl::GetFlag(FLAGS_role));
  if (!role.has_value()) {
    *error =
        "--role must be one of ministry_admin, province_editor, province_approver, "
        "commune_editor, department_integration, auditor";
    return false;
  }
  if (*role == v1::ROLE_SERVICE) {
    *error = "--role=service is never granted to a caller";
    return false;
  }
  grant->role = *role;
  const std::string scope = absl::GetFlag(FLAGS_scope);
  if (scope.empty()) {
    *error = "--scope is required: a unit such as provinces/01, or - for the nation";
    return false;
  }
  grant->scope = scope == "-" ? "" : scope;
  if (!grant->scope.empty()) {
    absl::optional<Area> area = AreaOf(grant->scope);
    if (!area.has_value() || area->owner_below || area->unit != grant->scope) {
      *error = absl::StrCat("--scope=", scope, " is not a unit");
      return false;
    }
  }
  for (absl::string_view method :
       absl::StrSplit(absl::GetFlag(FLAGS_methods), ',', absl::SkipWhitespace())) {
    if (FindMethodPolicy(method) == nullptr) {
      *error = absl::StrCat("--methods: unknown method ", method,
                            " (want full names like /htx.registry.v1.RegistryService/GetUnit)");
      return false;
    }
    grant->methods.emplace_back(method);
  }
  if (!grant->methods.empty() && grant->role != v1::ROLE_DEPARTMENT_INTEGRATION) {
    *error = "--methods are granted to department_integration only";
    return false;
  }
  return true;
}

int Keygen() {
  const std::string dir = absl::GetFlag(FLAGS_keys_dir);
  const std::string kid = absl::GetFlag(FLAGS_kid);
  const std::string private_key = absl::GetFlag(FLAGS_private_key);
  if (dir.empty()) return UsageError("keygen: --keys_dir is required");
  if (private_key.empty()) return UsageError("keygen: --private_key is required");
  if (!ValidKid(kid)) return UsageError("--kid must be 1..64 of [A-Za-z0-9._-]");
  absl::StatusOr<KeyPair> pair = GenerateKeyPair(absl::GetFlag(FLAGS_alg));
  if (!pair.ok()) {
    if (pair.status().code() == absl::StatusCode::kInvalidArgument) {
      return UsageError(std::string(pair.status().message()));
    }
    return Failure(pair.status().ToString());
  }
  std::string error;
  if (!WriteNewFile(private_key, pair->private_pem, 0600, &error)) return Failure(error);
  const std::string public_path = absl::StrCat(dir, "/", kid, ".pem");
  if (!WriteNewFile(public_path, pair->public_pem, 0644, &error)) {
    unlink(private_key.c_str());
    return Failure(error);
  }
  std::printf("%s\n%s\n", public_path.c_str(), private_key.c_str());
  return 0;
}

int Mint() {
  const std::string private_key_path = absl::GetFlag(FLAGS_private_key);
  if (private_key_path.empty()) return UsageError("mint: --private_key is required");
  for (const auto& [flag, value] :
       {std::pair<const char*, std::string>{"issuer", absl::GetFlag(FLAGS_issuer)},
        {"audience", absl::GetFlag(FLAGS_audience)},
        {"subject", absl::GetFlag(FLAGS_subject)}}) {
    if (value.empty()) return UsageError(absl::StrCat("mint: --", flag, " is required"));
  }
  const int64_t ttl = absl::GetFlag(FLAGS_ttl_seconds);
  if (ttl <= 0) return UsageError("--ttl_seconds must be positive");
  Grant grant;
  std::string error;
  if (!ParseGrant(&grant, &error)) return UsageError(error);

  std::ifstream in(private_key_path, std::ios::binary);
  if (!in) return Failure(absl::StrCat("cannot read ", private_key_path));
  std::ostringstream pem;
  pem << in.rdbuf();

  const int64_t now = absl::ToUnixSeconds(absl::Now());
  google::protobuf::Struct claims;
  auto& fields = *claims.mutable_fields();
  fields["iss"].set_string_value(absl::GetFlag(FLAGS_issuer));
  fields["aud"].set_string_value(absl::GetFlag(FLAGS_audience));
  fields["sub"].set_string_value(absl::GetFlag(FLAGS_subject));
  fields["iat"].set_number_value(static_cast<double>(now));
  fields["exp"].set_number_value(static_cast<double>(now + ttl));
  fields["role"].set_string_value(RoleName(grant.role));
  fields["scope"].set_string_value(grant.scope);
  if (!grant.methods.empty()) {
    auto* list = fields["methods"].mutable_list_value();
    for (const std::string& method : grant.methods) list->add_values()->set_string_value(method);
  }
  std::string claims_json;
  if (!google::protobuf::util::MessageToJsonString(claims, &claims_json).ok()) {
    return Failure("cannot print the claims");
  }
  absl::StatusOr<std::string> token =
      SignJwt(pem.str(), absl::GetFlag(FLAGS_alg), absl::GetFlag(FLAGS_kid), claims_json);
  if (!token.ok()) return UsageError(std::string(token.status().message()));
  std::printf("%s\n", token->c_str());
  return 0;
}

int ApiKey() {
  const std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty() || name.find_first_of(" \t#") != std::string::npos) {
    return UsageError("api-key: --name is required, without spaces or #");
  }
  Grant grant;
  std::string error;
  if (!ParseGrant(&grant, &error)) return UsageError(error);
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return Failure("no random bytes");
  const std::string key = absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  std::string line = absl::StrCat("key:", HashApiKey(key), "  ", name, "  ", RoleName(grant.role),
                                  "  ", grant.scope.empty() ? "-" : grant.scope);
  if (!grant.methods.empty()) absl::StrAppend(&line, "  ", absl::StrJoin(grant.methods, ","));
  std::printf("%s\n%s\n", key.c_str(), line.c_str());
  return 0;
}

int InternalKeyCommand() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return UsageError("internal-key: --out is required");
  std::string error;
  if (!WriteNewFile(out, InternalKey::GenerateHex() + "\n", 0600, &error)) return Failure(error);
  return 0;
}

// Parses "--flag=value" and "--flag value" into the flags above and returns
// the other arguments. absl::ParseCommandLine would exit(1) on a bad flag;
// a bad command line here exits 2 like every other usage error.
bool ParseArgs(int argc, char** argv, std::vector<std::string>* positional, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional->emplace_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional->emplace_back(arg);
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    absl::string_view name = arg;
    std::string value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = absl::StrCat("--", name, " needs a value");
      return false;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      *error = absl::StrCat("unknown flag --", name);
      return false;
    }
    std::string problem;
    if (!flag->ParseFrom(value, &problem)) {
      *error = absl::StrCat("--", name, ": ", problem);
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsageText);
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h") {
      std::printf("htx-token %s\n", kUsageText);
      return 0;
    }
  }
  std::vector<std::string> args;
  std::string error;
  if (!ParseArgs(argc, argv, &args, &error)) return UsageError(error);
  if (args.size() != 1) return UsageError(absl::StrCat("want one command\n", kUsageText));
  const absl::string_view command = args[0];
  if (command == "keygen") return Keygen();
  if (command == "mint") return Mint();
  if (command == "api-key") return ApiKey();
  if (command == "internal-key") return InternalKeyCommand();
  return UsageError(absl::StrCat("unknown command \"", command, "\"\n", kUsageText));
}

}  // namespace
}  // namespace htx::auth

int main(int argc, char** argv) { return htx::auth::Main(argc, argv); }
