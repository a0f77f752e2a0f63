// A JSON string literal appended to a fmt buffer: the one escaper of the hand-written JSON
// outputs (Chrome JSON trace, HTML report data).
#pragma once

#include <fmt/format.h>

#include <iterator>
#include <string_view>

namespace proxysim {

// Appends `s` as a quoted JSON string: '"' and '\' are backslash-escaped, control characters
// become \u00XX, UTF-8 passes through. With `script_safe`, '<', '>' and '&' are \u-escaped too,
// so that the literal can sit inside an HTML <script> element ("</script>" cannot close it).
inline void append_json_string(fmt::memory_buffer& b, std::string_view s, bool script_safe) {
  b.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      b.push_back('\\');
      b.push_back(ch);
    } else if (c < 0x20 || (script_safe && (c == '<' || c == '>' || c == '&'))) {
      fmt::format_to(std::back_inserter(b), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      b.push_back(ch);
    }
  }
  b.push_back('"');
}

}  // namespace proxysim
