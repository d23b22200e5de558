#include "services/gateway/connect_edge.h"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/support/status.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "htx/type/v1/error.pb.h"

namespace htx::gateway {
namespace {

namespace pb = google::protobuf;

constexpr char kJsonType[] = "application/json";
constexpr char kProtoType[] = "application/proto";

enum class Codec { kJson, kProto };

// One POST /{service}/{method} path.
struct Route {
  const pb::MethodDescriptor* method = nullptr;
  const pb::Message* request = nullptr;   // prototype; null for streaming methods
  const pb::Message* response = nullptr;  // prototype; null for streaming methods
};

struct ConnectCode {
  const char* name;
  int http_status;
};
// The Connect protocol's code → HTTP status table
// (connectrpc.com/docs/protocol#error-codes).
ConnectCode ToConnect(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kCancelled:
      return {"canceled", 499};
    case absl::StatusCode::kUnknown:
      return {"unknown", 500};
    case absl::StatusCode::kInvalidArgument:
      return {"invalid_argument", 400};
    case absl::StatusCode::kDeadlineExceeded:
      return {"deadline_exceeded", 504};
    case absl::StatusCode::kNotFound:
      return {"not_found", 404};
    case absl::StatusCode::kAlreadyExists:
      return {"already_exists", 409};
    case absl::StatusCode::kPermissionDenied:
      return {"permission_denied", 403};
    case absl::StatusCode::kResourceExhausted:
      return {"resource_exhausted", 429};
    case absl::StatusCode::kFailedPrecondition:
      return {"failed_precondition", 400};
    case absl::StatusCode::kAborted:
      return {"aborted", 409};
    case absl::StatusCode::kOutOfRange:
      return {"out_of_range", 400};
    case absl::StatusCode::kUnimplemented:
      return {"unimplemented", 501};
    case absl::StatusCode::kInternal:
      return {"internal", 500};
    case absl::StatusCode::kUnavailable:
      return {"unavailable", 503};
    case absl::StatusCode::kDataLoss:
      return {"data_loss", 500};
    case absl::StatusCode::kUnauthenticated:
      return {"unauthenticated", 401};
    default:
      return {"unknown", 500};
  }
}

// Headers the edge writes itself; the invoker's extra headers may not replace them.
bool IsReservedResponseHeader(absl::string_view name) {
  for (absl::string_view reserved :
       {"content-type", "content-length", "content-encoding", "transfer-encoding", "connection"}) {
    if (absl::EqualsIgnoreCase(name, reserved)) return true;
  }
  return false;
}

void SetHeaders(const std::map<std::string, std::string>& headers, httplib::Response& res) {
  for (const auto& [name, value] : headers) {
    if (name.empty() || IsReservedResponseHeader(name)) continue;
    res.set_header(name, value);  // httplib drops values containing CR/LF
  }
}

// The ErrorInfo the status carries (common/status attaches one, or a default
// one naming the code), as the gRPC edge would send it.
type::v1::ErrorInfo InfoOf(const absl::Status& status) {
  type::v1::ErrorInfo info;
  type::v1::ErrorStatus details;
  if (details.ParseFromString(ToGrpcStatus(status).error_details())) {
    for (const auto& any : details.details()) {
      if (any.UnpackTo(&info)) break;
    }
  }
  return info;
}

// A Connect error body: {"code", "message", "details": [ErrorInfo]}.
std::string ConnectErrorBody(const absl::Status& status) {
  std::string body = absl::StrCat("{\"code\":", server::JsonQuote(ToConnect(status.code()).name));
  if (!status.message().empty()) {
    absl::StrAppend(&body, ",\"message\":", server::JsonQuote(status.message()));
  }
  type::v1::ErrorInfo info = InfoOf(status);
  std::string value = absl::Base64Escape(info.SerializeAsString());
  // The spec asks for unpadded base64.
  value.erase(value.find_last_not_of('=') + 1);
  absl::StrAppend(&body, ",\"details\":[{\"type\":", server::JsonQuote(info.GetTypeName()),
                  ",\"value\":", server::JsonQuote(value));
  std::string debug;
  if (pb::util::MessageToJsonString(info, &debug).ok()) {
    absl::StrAppend(&body, ",\"debug\":", debug);
  }
  absl::StrAppend(&body, "}]}");
  return body;
}

void WriteError(const absl::Status& status, httplib::Response& res,
                std::optional<int> http_status = std::nullopt) {
  res.status = http_status.value_or(ToConnect(status.code()).http_status);
  res.set_content(ConnectErrorBody(status), kJsonType);
}

// Where JsonStringToMessage's message names a field, that field as a path:
// "(fields[0]) bogus: Cannot find field." → "fields[0].bogus",
// "(name): invalid value 1 for type TYPE_STRING" → "name".
std::string JsonErrorField(absl::string_view message) {
  std::string prefix;
  bool has_prefix = absl::ConsumePrefix(&message, "(");
  if (has_prefix) {
    size_t close = message.find(')');
    if (close == absl::string_view::npos) return "";
    prefix = std::string(message.substr(0, close));
    message.remove_prefix(close + 1);
  }
  constexpr absl::string_view kUnknown = ": Cannot find field.";
  size_t unknown = message.rfind(kUnknown);
  if (unknown != absl::string_view::npos && unknown + kUnknown.size() == message.size()) {
    absl::string_view name = absl::StripAsciiWhitespace(message.substr(0, unknown));
    if (prefix.empty()) return std::string(name);
    return name.empty() ? prefix : absl::StrCat(prefix, ".", name);
  }
  return has_prefix ? prefix : "";
}

// The codec of a Content-Type, or nullopt if the edge does not speak it.
std::optional<Codec> CodecOf(absl::string_view content_type) {
  std::vector<absl::string_view> parts = absl::StrSplit(content_type, ';');
  std::string media = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
  std::optional<Codec> codec;
  if (media == kJsonType) codec = Codec::kJson;
  if (media == kProtoType) codec = Codec::kProto;
  if (!codec) return std::nullopt;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> param =
        absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(param.first), "charset")) continue;
    absl::string_view charset = absl::StripAsciiWhitespace(param.second);
    absl::ConsumePrefix(&charset, "\"");
    absl::ConsumeSuffix(&charset, "\"");
    // JSON is UTF-8 (RFC 8259); another charset would be misread.
    if (*codec == Codec::kJson && !absl::EqualsIgnoreCase(charset, "utf-8") &&
        !absl::EqualsIgnoreCase(charset, "utf8")) {
      return std::nullopt;
    }
  }
  return codec;
}

// Request headers for the invoker: lower-case names, repeated ones joined.
std::map<std::string, std::string> LowerCaseHeaders(const httplib::Headers& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    std::string key = absl::AsciiStrToLower(name);
    // httplib files the socket addresses among the headers; they are not the client's.
    if (key == "remote_addr" || key == "remote_port" || key == "local_addr" ||
        key == "local_port") {
      continue;
    }
    auto [it, inserted] = out.emplace(key, value);
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  return out;
}

std::string Peer(const httplib::Request& req) {
  if (req.remote_addr.find(':') != std::string::npos) {
    return absl::StrCat("[", req.remote_addr, "]:", req.remote_port);
  }
  return absl::StrCat(req.remote_addr, ":", req.remote_port);
}

// A short, single-line excerpt of client input for an error message.
std::string Excerpt(absl::string_view s, size_t limit = 200) {
  if (s.size() <= limit) return std::string(s);
  return absl::StrCat(s.substr(0, limit), "...");
}

// The Connect code a client would infer from a bare HTTP status
// (connectrpc.com/docs/protocol#http-to-error-code).
absl::StatusCode InferredCode(int http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInternal;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

// "HOST:PORT" or "[V6]:PORT".
absl::Status ParseListen(absl::string_view listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", listen, "\" is not HOST:PORT"));
  }
  absl::string_view h = listen.substr(0, colon);
  if (absl::ConsumePrefix(&h, "[") && !absl::ConsumeSuffix(&h, "]")) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", listen, "\" has an unclosed '['"));
  }
  if (!absl::SimpleAtoi(listen.substr(colon + 1), port) || *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", listen, "\" has no valid port"));
  }
  *host = std::string(h);
  return absl::OkStatus();
}

}  // namespace

class ConnectEdge::Impl {
 public:
  Impl(ConnectEdgeOptions options, EdgeInvoker invoker)
      : options_(std::move(options)), invoker_(std::move(invoker)) {}

  ~Impl() { Stop(); }

  absl::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  absl::Status AddRoutes();
  const pb::Message* Prototype(const pb::Descriptor* descriptor);
  void Handle(const httplib::Request& req, httplib::Response& res);
  void HandleUnary(const Route& route, const httplib::Request& req, httplib::Response& res);
  EdgeResult Invoke(EdgeCall call);
  httplib::Server::HandlerResponse HandleHttpError(const httplib::Request& req,
                                                   httplib::Response& res);

  const ConnectEdgeOptions options_;
  const EdgeInvoker invoker_;
  std::map<std::string, Route> routes_;  // by path
  std::string openapi_;
  // For descriptors outside the generated pool (services built at run time).
  pb::DynamicMessageFactory dynamic_factory_;

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::mutex stop_mu_;
};

const pb::Message* ConnectEdge::Impl::Prototype(const pb::Descriptor* descriptor) {
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(descriptor);
  return prototype != nullptr ? prototype : dynamic_factory_.GetPrototype(descriptor);
}

absl::Status ConnectEdge::Impl::AddRoutes() {
  for (const pb::ServiceDescriptor* service : options_.services) {
    if (service == nullptr) return absl::InvalidArgumentError("null service descriptor");
    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* method = service->method(i);
      Route route;
      route.method = method;
      if (!method->client_streaming() && !method->server_streaming()) {
        route.request = Prototype(method->input_type());
        route.response = Prototype(method->output_type());
        if (route.request == nullptr || route.response == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("no message prototypes for ", method->full_name()));
        }
      }
      routes_[absl::StrCat("/", service->full_name(), "/", method->name())] = route;
    }
  }
  return absl::OkStatus();
}

absl::Status ConnectEdge::Impl::Start() {
  if (!invoker_) return absl::InvalidArgumentError("no invoker");
  if (absl::Status status = AddRoutes(); !status.ok()) return status;
  openapi_ = OpenApiDocument(options_.services);

  std::string host;
  int port = 0;
  if (absl::Status status = ParseListen(options_.listen, &host, &port); !status.ok()) {
    return status;
  }

  const int threads = std::max(1, options_.threads);
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib's default sets SO_REUSEPORT, which would let a second edge share
  // the port silently; a port in use must be an error.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_.set_payload_max_length(options_.max_body_bytes);

  // One bounded pattern for every method path: std::regex recursion grows
  // with the input, so an unbounded ".*" over a long path could exhaust the stack.
  size_t longest = 1;
  for (const auto& [path, route] : routes_) {
    longest = std::max(
        {longest, route.method->service()->full_name().size(), route.method->name().size()});
  }
  server_.Post(absl::StrCat("/[^/]{1,", longest, "}/[^/]{1,", longest, "}"),
               [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
  server_.Get(R"(/openapi\.json)", [this](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(openapi_, kJsonType);
  });
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        return HandleHttpError(req, res);
      }));
  server_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        WriteError(
            Error(absl::StatusCode::kInternal, "EDGE_EXCEPTION", "internal error in the JSON edge"),
            res);
      });

  if (port == 0) {
    port_ = server_.bind_to_any_port(host);
    if (port_ < 0) port_ = 0;
  } else if (server_.bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("JSON edge cannot listen on ", options_.listen));
  }
  thread_ = std::thread([this] {
    server_.listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() is a no-op until the accept loop runs, so Stop() right
  // after Start() would hang; wait for the loop.
  while (!server_.is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_.is_running()) {
    thread_.join();
    return absl::UnavailableError(absl::StrCat("JSON edge stopped listening on ", options_.listen));
  }
  return absl::OkStatus();
}

void ConnectEdge::Impl::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

httplib::Server::HandlerResponse ConnectEdge::Impl::HandleHttpError(const httplib::Request& req,
                                                                    httplib::Response& res) {
  // Bodies the edge wrote itself stay; only httplib's bare statuses get a Connect body.
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  absl::Status status;
  switch (res.status) {
    case 404:
      status = Error(absl::StatusCode::kUnimplemented, "METHOD_NOT_FOUND",
                     absl::StrCat("no method ", Excerpt(req.method, 16), " ", Excerpt(req.path),
                                  ": the JSON API takes POST /{package.Service}/{Method}"));
      break;
    case 413:
      status = Error(absl::StatusCode::kResourceExhausted, "REQUEST_TOO_LARGE",
                     absl::StrCat("request body exceeds ", options_.max_body_bytes, " bytes"));
      break;
    case 414:
      status =
          Error(absl::StatusCode::kResourceExhausted, "REQUEST_TOO_LARGE", "request URI too long");
      break;
    case 415:
      // httplib refuses a Content-Encoding it cannot decode this way.
      status = Error(absl::StatusCode::kUnimplemented, "UNSUPPORTED_ENCODING",
                     "unsupported content-encoding; supported: identity, gzip, deflate, br");
      break;
    case 400:
      status =
          Error(absl::StatusCode::kInvalidArgument, "MALFORMED_REQUEST", "malformed HTTP request");
      break;
    default:
      status =
          Error(InferredCode(res.status), "HTTP_ERROR", absl::StrCat("HTTP status ", res.status));
  }
  // The HTTP status httplib chose stays; the body tells the Connect code.
  res.set_content(ConnectErrorBody(status), kJsonType);
  return httplib::Server::HandlerResponse::Handled;
}

void ConnectEdge::Impl::Handle(const httplib::Request& req, httplib::Response& res) {
  auto it = routes_.find(req.path);
  if (it == routes_.end()) {
    WriteError(Error(absl::StatusCode::kUnimplemented, "METHOD_NOT_FOUND",
                     absl::StrCat("no method ", Excerpt(req.path),
                                  ": the JSON API takes POST /{package.Service}/{Method}")),
               res, 404);
    return;
  }
  const Route& route = it->second;
  if (route.request == nullptr) {
    WriteError(Error(absl::StatusCode::kUnimplemented, "STREAMING_NOT_SUPPORTED",
                     absl::StrCat(route.method->full_name(),
                                  " is a streaming method; the JSON edge serves unary methods "
                                  "only: use gRPC for streams")),
               res);
    return;
  }
  HandleUnary(route, req, res);
}

void ConnectEdge::Impl::HandleUnary(const Route& route, const httplib::Request& req,
                                    httplib::Response& res) {
  std::optional<Codec> codec = CodecOf(req.get_header_value("Content-Type"));
  if (!codec) {
    // The spec requires 415 for an unsupported codec; no Connect code maps to it.
    res.set_header("Accept-Post", "application/json, application/proto");
    WriteError(Error(absl::StatusCode::kInvalidArgument, "UNSUPPORTED_MEDIA_TYPE",
                     absl::StrCat("unsupported Content-Type \"",
                                  Excerpt(req.get_header_value("Content-Type"), 100),
                                  "\": use application/json or application/proto")),
               res, 415);
    return;
  }
  if (req.has_header("Connect-Protocol-Version") &&
      req.get_header_value("Connect-Protocol-Version") != "1") {
    WriteError(Error(absl::StatusCode::kInvalidArgument, "UNSUPPORTED_PROTOCOL_VERSION",
                     "connect-protocol-version must be 1"),
               res);
    return;
  }
  // httplib decodes these encodings and passes any other through undecoded,
  // so the rest must be refused here (the spec asks for unimplemented).
  if (std::string encoding = req.get_header_value("Content-Encoding");
      !encoding.empty() && encoding != "identity" && encoding != "gzip" && encoding != "deflate" &&
      encoding != "br") {
    WriteError(Error(absl::StatusCode::kUnimplemented, "UNSUPPORTED_ENCODING",
                     absl::StrCat("unsupported content-encoding \"", Excerpt(encoding, 50),
                                  "\"; supported: identity, gzip, deflate, br")),
               res);
    return;
  }
  if (req.has_header("Connect-Timeout-Ms")) {
    std::string timeout = req.get_header_value("Connect-Timeout-Ms");
    if (timeout.empty() || timeout.size() > 10 ||
        !std::all_of(timeout.begin(), timeout.end(), absl::ascii_isdigit)) {
      WriteError(Error(absl::StatusCode::kInvalidArgument, "INVALID_TIMEOUT",
                       "connect-timeout-ms must be a positive integer of at most 10 digits"),
                 res);
      return;
    }
  }
  // httplib enforces the limit on Content-Length; this also covers chunked
  // and decompressed bodies.
  if (req.body.size() > options_.max_body_bytes) {
    WriteError(Error(absl::StatusCode::kResourceExhausted, "REQUEST_TOO_LARGE",
                     absl::StrCat("request body exceeds ", options_.max_body_bytes, " bytes")),
               res, 413);
    return;
  }

  std::unique_ptr<pb::Message> request(route.request->New());
  if (*codec == Codec::kJson) {
    pb::util::JsonParseOptions parse_options;
    parse_options.ignore_unknown_fields = false;
    absl::string_view body = req.body;
    if (absl::StripAsciiWhitespace(body).empty()) body = "{}";
    auto parsed = pb::util::JsonStringToMessage(pb::StringPiece(body.data(), body.size()),
                                                request.get(), parse_options);
    if (!parsed.ok()) {
      // The parser's message may carry a multi-line excerpt of the input.
      absl::string_view problem(parsed.message().data(), parsed.message().size());
      problem = problem.substr(0, problem.find('\n'));
      std::string message = absl::StrCat("invalid JSON for ", route.request->GetTypeName(), ": ",
                                         Excerpt(problem, 300));
      std::string field = JsonErrorField(problem);
      WriteError(field.empty() ? Error(absl::StatusCode::kInvalidArgument, "INVALID_JSON", message)
                               : Error(absl::StatusCode::kInvalidArgument, "INVALID_JSON", message,
                                       {{"field", field}}),
                 res);
      return;
    }
  } else if (!request->ParseFromString(req.body)) {
    WriteError(Error(absl::StatusCode::kInvalidArgument, "INVALID_PROTO",
                     absl::StrCat("body is not a serialized ", route.request->GetTypeName())),
               res);
    return;
  }

  EdgeCall call;
  call.method = absl::StrCat("/", route.method->service()->full_name(), "/", route.method->name());
  call.request = request->SerializeAsString();
  call.headers = LowerCaseHeaders(req.headers);
  call.peer = Peer(req);
  EdgeResult result = Invoke(std::move(call));

  SetHeaders(result.headers, res);
  if (!result.status.ok()) {
    WriteError(result.status, res);
    return;
  }
  std::unique_ptr<pb::Message> response(route.response->New());
  if (!response->ParseFromString(result.response)) {
    WriteError(Error(absl::StatusCode::kInternal, "MALFORMED_RESPONSE",
                     absl::StrCat("the service's answer is not a ", route.response->GetTypeName())),
               res);
    return;
  }
  res.status = 200;
  if (*codec == Codec::kProto) {
    res.set_content(response->SerializeAsString(), kProtoType);
    return;
  }
  pb::util::JsonPrintOptions print_options;
  print_options.preserve_proto_field_names = false;
  print_options.always_print_primitive_fields = false;
  std::string json;
  if (auto printed = pb::util::MessageToJsonString(*response, &json, print_options);
      !printed.ok()) {
    WriteError(Error(absl::StatusCode::kInternal, "RESPONSE_NOT_JSON",
                     absl::StrCat("cannot print the answer as JSON: ",
                                  std::string(printed.message().data(), printed.message().size()))),
               res);
    return;
  }
  res.set_content(json, kJsonType);
}

EdgeResult ConnectEdge::Impl::Invoke(EdgeCall call) {
  // Shared with `done`, which may run on any thread, or (against the
  // contract) after this returned or more than once.
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    EdgeResult result;
  };
  auto pending = std::make_shared<Pending>();
  invoker_(std::move(call), [pending](EdgeResult result) {
    std::lock_guard<std::mutex> lock(pending->mu);
    if (pending->done) return;
    pending->result = std::move(result);
    pending->done = true;
    pending->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(pending->mu);
  pending->cv.wait(lock, [&] { return pending->done; });
  return std::move(pending->result);
}

absl::StatusOr<std::unique_ptr<ConnectEdge>> ConnectEdge::Start(ConnectEdgeOptions options,
                                                                EdgeInvoker invoker) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(invoker));
  if (absl::Status status = impl->Start(); !status.ok()) return status;
  return std::unique_ptr<ConnectEdge>(new ConnectEdge(std::move(impl)));
}

ConnectEdge::ConnectEdge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConnectEdge::~ConnectEdge() { Stop(); }

int ConnectEdge::port() const { return impl_->port(); }

void ConnectEdge::Stop() { impl_->Stop(); }

}  // namespace htx::gateway
