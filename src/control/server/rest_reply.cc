#include "control/server/rest_reply.h"

#include <fmt/format.h>

namespace stargate::control::rest {
namespace {

using nlohmann::json;

std::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kPermissionDenied:
      return "permission_denied";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case absl::StatusCode::kAlreadyExists:
      return "conflict";
    case absl::StatusCode::kAborted:
      return "aborted";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    default:
      return "internal";
  }
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// The field path of a parser message "FILE:LINE:COL: a.b[1]: problem".
std::string FieldOf(std::string_view message) {
  size_t pos = 0;
  for (int colons = 0; colons < 3; ++colons) {
    pos = message.find(':', pos);
    if (pos == std::string_view::npos) return "";
    ++pos;
  }
  if (pos >= message.size() || message[pos] != ' ') return "";
  const size_t end = message.find(": ", pos + 1);
  if (end == std::string_view::npos) return "";
  const std::string_view field = message.substr(pos + 1, end - pos - 1);
  if (field.find(' ') != std::string_view::npos) return "";  // a sentence, not a path
  return std::string(field);
}

}  // namespace

// Invalid UTF-8 from a client (a header, a path) is replaced, never thrown.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message, std::string_view field) {
  json err = {{"code", code}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  return HttpResponse{status, Dump(json{{"error", err}})};
}

HttpResponse FromStatus(const Status& st) {
  const std::string message(st.message());
  return ErrorResponse(HttpStatusOf(st.code()), CodeName(st.code()), message,
                       st.code() == absl::StatusCode::kInvalidArgument ? FieldOf(message) : "");
}

HttpResponse FromStatus(const Status& st, std::string_view field) {
  return ErrorResponse(HttpStatusOf(st.code()), CodeName(st.code()), std::string(st.message()), field);
}

HttpResponse FromStatusIn(const Status& st, const std::string& field) {
  const std::string message(st.message());
  const std::string f = FieldOf(message);
  return ErrorResponse(HttpStatusOf(st.code()), CodeName(st.code()), fmt::format("{}: {}", field, message),
                       f.empty() ? field : field + "." + f);
}

}  // namespace stargate::control::rest
