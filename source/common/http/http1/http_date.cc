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

}  // namespace

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
