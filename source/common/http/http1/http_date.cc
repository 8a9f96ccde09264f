#include "source/common/http/http1/http_date.h"

namespace modgate::http::http1 {
namespace {

constexpr char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char* putTwoDigits(char* out, int value) {
  *out++ = static_cast<char>('0' + value / 10);
  *out++ = static_cast<char>('0' + value % 10);
  return out;
}

char* putText(char* out, const char* text) {
  while (*text != '\0') *out++ = *text++;
  return out;
}

bool takeNumber(std::string_view text, size_t at, size_t digits, int& out) {
  out = 0;
  for (size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

bool parseHttpDate(std::string_view text, time_t& out) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions, 29 bytes.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return false;
  }
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i;
  }
  tm t{};
  int day, year, hour, minute, second;
  if (month < 0 || !takeNumber(text, 5, 2, day) || !takeNumber(text, 12, 4, year) ||
      !takeNumber(text, 17, 2, hour) || !takeNumber(text, 20, 2, minute) ||
      !takeNumber(text, 23, 2, second) || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  t.tm_mday = day;
  t.tm_mon = month;
  t.tm_year = year - 1900;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  out = timegm(&t);
  return out != static_cast<time_t>(-1);
}

size_t formatHttpDate(time_t when, char* out) {
  tm t;
  gmtime_r(&when, &t);
  char* p = out;
  p = putText(p, kDays[t.tm_wday % 7]);
  p = putText(p, ", ");
  p = putTwoDigits(p, t.tm_mday);
  *p++ = ' ';
  p = putText(p, kMonths[t.tm_mon % 12]);
  *p++ = ' ';
  const int year = t.tm_year + 1900;
  p = putTwoDigits(p, (year / 100) % 100);
  p = putTwoDigits(p, year % 100);
  *p++ = ' ';
  p = putTwoDigits(p, t.tm_hour);
  *p++ = ':';
  p = putTwoDigits(p, t.tm_min);
  *p++ = ':';
  p = putTwoDigits(p, t.tm_sec);
  p = putText(p, " GMT");
  return static_cast<size_t>(p - out);
}

std::string_view cachedHttpDate() {
  struct Cache {
    time_t second = -1;
    char text[32];
    size_t length = 0;
  };
  thread_local Cache cache;
  // time() is a vDSO call: far cheaper than formatting.
  const time_t now = time(nullptr);
  if (now != cache.second) {
    cache.length = formatHttpDate(now, cache.text);
    cache.second = now;
  }
  return std::string_view(cache.text, cache.length);
}

}  // namespace modgate::http::http1
