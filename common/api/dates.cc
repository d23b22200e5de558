#include "common/api/dates.h"

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/status/status.h"

namespace htx::api {

DayKey ToDayKey(const type::v1::Date& date) {
  return date.year() * 10000 + date.month() * 100 + date.day();
}

type::v1::Date FromDayKey(DayKey key) {
  type::v1::Date date;
  date.set_year(key / 10000);
  date.set_month(key / 100 % 100);
  date.set_day(key % 100);
  return date;
}

bool IsSet(const type::v1::Date& date) {
  return date.year() != 0 || date.month() != 0 || date.day() != 0;
}

absl::Status ValidateDate(const type::v1::Date& date, absl::string_view field, bool required) {
  if (!IsSet(date)) {
    return required ? RequiredField(field) : absl::OkStatus();
  }
  absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 1900 || date.year() > 9999 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    return InvalidField(field, absl::StrFormat("%04d-%02d-%02d is not a valid date", date.year(),
                                               date.month(), date.day()));
  }
  return absl::OkStatus();
}

std::string FormatDate(DayKey key) {
  return absl::StrFormat("%04d-%02d-%02d", key / 10000, key / 100 % 100, key % 100);
}

}  // namespace htx::api
