// Calendar dates (type.v1.Date) as every service checks and keys them.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "htx/type/v1/date.pb.h"

namespace htx::api {

// A date as YYYYMMDD, so that integer order is date order; 0 = unset.
using DayKey = int32_t;
DayKey ToDayKey(const type::v1::Date& date);
type::v1::Date FromDayKey(DayKey key);
bool IsSet(const type::v1::Date& date);
// INVALID_ARGUMENT naming `field` unless the date is a real calendar date in
// 1900..9999 (or unset, when !required).
absl::Status ValidateDate(const type::v1::Date& date, absl::string_view field, bool required);
std::string FormatDate(DayKey key);  // "2025-06-30"

}  // namespace htx::api
