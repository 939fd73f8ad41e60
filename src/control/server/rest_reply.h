// File: rest_reply.h
// How the REST API answers (rest_api.h and its parts): JSON bodies, and
// errors as {"error": {"code", "message", "field"}} with the HTTP status
// a Status's code stands for (InvalidArgument 400, NotFound 404,
// PermissionDenied 403, FailedPrecondition and AlreadyExists 409,
// Unavailable 503, the rest 500).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/net/http_types.h"
#include "core/status.h"

namespace stargate::control::rest {

// Invalid UTF-8 from a client (a header, a path) is replaced, never thrown.
std::string Dump(const nlohmann::json& j);

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message, std::string_view field = {});

// A parser's InvalidArgument ("FILE:LINE:COL: a.b[1]: problem") names
// its field.
HttpResponse FromStatus(const Status& st);
// As FromStatus, naming `field` as the one at fault.
HttpResponse FromStatus(const Status& st, std::string_view field);
// As FromStatus, for an item of a request: the message starts "FIELD: ",
// and the field it names is under FIELD ("jobs[3].resources").
HttpResponse FromStatusIn(const Status& st, const std::string& field);

}  // namespace stargate::control::rest
