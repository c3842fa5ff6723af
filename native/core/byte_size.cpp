// byte_size.cpp — the size syntax of the environment variables (see byte_size.h).
#include "byte_size.h"

#include <cctype>
#include <stdexcept>

namespace cudnet {
namespace {

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trimmed(const std::string& text) {
  const char* spaces = " \t";
  size_t first = text.find_first_not_of(spaces);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(spaces) - first + 1);
}

// Bytes per unit; 0 for a unit we do not know.
size_t unitBytes(const std::string& unit, size_t bareUnit) {
  if (unit.empty()) return bareUnit;
  const std::string name = lowercase(unit);
  const std::string prefixes = "kmgt";
  size_t power = prefixes.find(name[0]);
  if (power == std::string::npos) return 0;
  const std::string rest = name.substr(1);
  if (!rest.empty() && rest != "b" && rest != "ib") return 0;
  return size_t(1) << (10 * (power + 1));
}

}  // namespace

std::optional<size_t> parseByteSize(const std::string& text, size_t bareUnit) {
  const std::string value = trimmed(text);
  size_t end = 0, digits = 0, points = 0;
  for (; end < value.size(); ++end) {
    if (std::isdigit(static_cast<unsigned char>(value[end]))) {
      ++digits;
    } else if (value[end] == '.' && points == 0) {
      ++points;
    } else {
      break;
    }
  }
  if (digits == 0) return std::nullopt;
  const size_t multiplier = unitBytes(trimmed(value.substr(end)), bareUnit);
  if (multiplier == 0) return std::nullopt;
  long double number = 0;
  try {
    number = std::stold(value.substr(0, end));
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
  const long double bytes = number * static_cast<long double>(multiplier);
  if (bytes >= 9223372036854775808.0L) return std::nullopt;  // 2^63: no memory is that large
  return static_cast<size_t>(bytes);
}

}  // namespace cudnet
