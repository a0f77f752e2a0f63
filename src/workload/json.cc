#include "workload/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace proxysim::workload::json {
namespace {

// RapidJSON input stream over the text. Unlike rapidjson::StringStream it has no
// copyOptimization trait, so the reader advances this very object and Tell() is exact inside
// handler callbacks (with a local copy, Tell() would lag behind during String/Key callbacks).
class CountingStream {
 public:
  using Ch = char;
  explicit CountingStream(std::string_view s) : s_(s) {}
  Ch Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  Ch Take() { return pos_ < s_.size() ? s_[pos_++] : '\0'; }
  size_t Tell() const { return pos_; }
  // Output side of the stream concept; never called without kParseInsituFlag.
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Where workgen's bare "suspend" members were completed: the parser reads a copy of the text
// with kFill inserted after each such key, and maps offsets in that copy back to the original.
constexpr std::string_view kFill = ":null";

class Patches {
 public:
  Patches() = default;
  // `at`: offsets in the original text, ascending.
  explicit Patches(std::vector<size_t> at) : at_(std::move(at)) {}

  bool empty() const { return at_.empty(); }

  // The text with kFill inserted at every patch offset.
  std::string apply(std::string_view text) const {
    std::string out;
    out.reserve(text.size() + at_.size() * kFill.size());
    size_t from = 0;
    for (size_t at : at_) {
      out.append(text.substr(from, at - from));
      out.append(kFill);
      from = at;
    }
    out.append(text.substr(from));
    return out;
  }

  // The original offset of `offset` in the patched text; an offset inside an inserted kFill maps
  // to the place of the insertion and sets *inserted.
  size_t original(size_t offset, bool* inserted = nullptr) const {
    // Patch i starts at at_[i] + i * kFill.size() in the patched text.
    size_t lo = 0, hi = at_.size();  // count of patches starting at or before `offset`
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (at_[mid] + mid * kFill.size() <= offset)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (inserted) *inserted = false;
    if (lo == 0) return offset;
    size_t k = lo - 1;
    size_t start = at_[k] + k * kFill.size();
    if (offset < start + kFill.size()) {
      if (inserted) *inserted = true;
      return at_[k];
    }
    return offset - lo * kFill.size();
  }

 private:
  std::vector<size_t> at_;
};

// Skips whitespace and comments from `i`; returns the offset of the next other character.
size_t skip_blank(std::string_view s, size_t i) {
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      size_t end = s.find('\n', i + 2);
      i = end == std::string_view::npos ? s.size() : end + 1;
    } else {
      break;
    }
  }
  return i;
}

// Offsets just past every object key that starts with "suspend" and is followed, after blanks,
// by ',' or '}' (a member without value). A lexical pass that only tracks strings, comments and
// brackets: on text that is not JSON it finds whatever it finds, and the parser reports the
// errors.
std::vector<size_t> find_bare_suspends(std::string_view s) {
  std::vector<size_t> found;
  std::vector<char> open;  // '{' or '['
  char prev = 0;           // last structural character, or 's' after a scalar
  size_t i = 0;
  while ((i = skip_blank(s, i)) < s.size()) {
    char c = s[i];
    if (c == '"') {
      bool key = !open.empty() && open.back() == '{' && (prev == '{' || prev == ',');
      size_t j = i + 1;
      while (j < s.size() && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
      size_t end = std::min(j + 1, s.size());  // past the closing quote
      if (key && s.substr(i + 1, j - i - 1).starts_with("suspend")) {
        size_t next = skip_blank(s, end);
        if (next < s.size() && (s[next] == ',' || s[next] == '}')) found.push_back(end);
      }
      prev = 's';
      i = end;
      continue;
    }
    if (c == '{' || c == '[') {
      open.push_back(c);
    } else if ((c == '}' || c == ']') && !open.empty()) {
      open.pop_back();
    }
    prev = (c == ',' || c == ':' || c == '{' || c == '[' || c == '}' || c == ']') ? c : 's';
    ++i;
  }
  return found;
}

// Maps byte offsets (of the patched text) to line and column (of the original text).
class LineIndex {
 public:
  LineIndex(std::string_view s, const Patches* patches) : s_(s), patches_(patches) {
    starts_.push_back(0);
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] == '\n') starts_.push_back(i + 1);
  }
  // Positions are asked for in increasing order (document order), so the column count resumes
  // from the previous answer when it is on the same line: linear overall, even on one long line.
  Position at(size_t offset, bool* inserted = nullptr) {
    offset = std::min(patches_->original(offset, inserted), s_.size());
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    size_t line = static_cast<size_t>(it - starts_.begin());  // >= 1: starts_[0] == 0
    size_t from = starts_[line - 1];
    size_t col = 1;
    if (line == last_line_ && offset >= last_offset_) {
      from = last_offset_;
      col = last_col_;
    }
    for (size_t i = from; i < offset; ++i)
      if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++col;  // skip UTF-8 continuations
    last_line_ = line;
    last_offset_ = offset;
    last_col_ = col;
    return {static_cast<int>(line), static_cast<int>(col)};
  }

 private:
  std::string_view s_;
  const Patches* patches_;
  std::vector<size_t> starts_;  // offset of the first byte of each line
  size_t last_line_ = 0, last_offset_ = 0, last_col_ = 1;
};

// SAX handler building the DOM. Scalar and key callbacks fire once the token has been consumed,
// so each start position is recovered from the stream offset at callback time.
class Builder {
 public:
  Builder(std::string_view text, const CountingStream* is, LineIndex* lines, Value* root)
      : text_(text), is_(is), lines_(lines), root_(root) {}

  bool Null() {
    Value v = scalar(Type::kNull, 4);
    v.bare = last_inserted_;
    return add(std::move(v)) != nullptr;
  }
  bool Bool(bool b) {
    Value v = scalar(Type::kBool, b ? 4 : 5);
    v.boolean = b;
    return add(std::move(v)) != nullptr;
  }
  // With kParseNumbersAsStringsFlag every number arrives here; the typed callbacks are unused.
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    Value v;
    v.type = Type::kNumber;
    v.text.assign(str, len);
    v.pos = lines_->at(number_start(is_->Tell()));
    return add(std::move(v)) != nullptr;
  }
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool String(const char* str, rapidjson::SizeType len, bool) {
    Value v;
    v.type = Type::kString;
    v.text.assign(str, len);
    v.pos = lines_->at(string_start(is_->Tell()));
    return add(std::move(v)) != nullptr;
  }
  bool StartObject() { return open(Type::kObject); }
  bool Key(const char* str, rapidjson::SizeType len, bool) {
    Value* top = stack_.back();  // the reader only calls Key inside an object
    Member m;
    m.key.assign(str, len);
    m.key_pos = lines_->at(string_start(is_->Tell()));
    top->members.push_back(std::move(m));
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Type::kArray); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  bool too_deep() const { return too_deep_; }
  Position too_deep_pos() const { return too_deep_pos_; }

 private:
  Value scalar(Type t, size_t len) {
    Value v;
    v.type = t;
    size_t end = is_->Tell();
    v.pos = lines_->at(end >= len ? end - len : 0, &last_inserted_);
    return v;
  }

  // Offset of the opening quote of the string whose closing quote is at end - 1. Inside a
  // string every '"' is escaped, i.e. preceded by an odd number of backslashes, and the opening
  // quote is never preceded by a backslash.
  size_t string_start(size_t end) const {
    if (end < 2) return 0;
    size_t i = end - 1;  // the closing quote
    while (i > 0) {
      --i;
      if (text_[i] != '"') continue;
      size_t backslashes = 0;
      while (backslashes < i && text_[i - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) return i;
    }
    return 0;
  }

  // Offset of the first character of the number that ends at `end`.
  size_t number_start(size_t end) const {
    size_t i = end;
    while (i > 0 &&
           std::string_view("0123456789+-.eE").find(text_[i - 1]) != std::string_view::npos)
      --i;
    return i;
  }

  Value* add(Value v) {
    if (stack_.empty()) {
      *root_ = std::move(v);
      return root_;
    }
    Value* top = stack_.back();
    if (top->type == Type::kArray) {
      top->items.push_back(std::move(v));
      return &top->items.back();
    }
    top->members.back().value = std::move(v);
    return &top->members.back().value;
  }

  // Only the innermost open container is ever modified, so the pointers on the stack (to
  // containers inside their parents' vectors) stay valid until the container is closed.
  bool open(Type t) {
    // With kParseIterativeFlag (always set, see parse()) the reader calls StartObject and
    // StartArray before it takes the bracket: the stream is still on it.
    Value v;
    v.type = t;
    v.pos = lines_->at(is_->Tell());
    if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
      too_deep_ = true;
      too_deep_pos_ = v.pos;
      return false;
    }
    Value* p = add(std::move(v));
    stack_.push_back(p);
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::string_view text_;
  const CountingStream* is_;
  LineIndex* lines_;
  Value* root_;
  std::vector<Value*> stack_;
  bool last_inserted_ = false;  // the last scalar was inserted by Patches
  bool too_deep_ = false;
  Position too_deep_pos_;
};

}  // namespace

void release(Value* v) {
  std::string().swap(v->text);
  std::vector<Value>().swap(v->items);
  std::vector<Member>().swap(v->members);
}

bool Value::is_integer() const {
  if (type != Type::kNumber || text.empty()) return false;
  return text.find_first_of(".eE") == std::string::npos;
}

bool Value::get_int64(int64_t* out) const {
  if (!is_integer()) return false;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  *out = v;
  return true;
}

namespace {

// One parse of `text`, the original text with `patches` applied. Returns RapidJSON's code.
rapidjson::ParseErrorCode parse_once(std::string_view original, const Patches& patches, Value* root,
                                     SyntaxError* err) {
  // The dialect of json-c as rt-app uses it. Iterative parsing keeps the reader off the call
  // stack; strict UTF-8 keeps messages printable.
  constexpr unsigned kFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
                              rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag;
  std::string patched;
  std::string_view text = original;
  if (!patches.empty()) {
    patched = patches.apply(original);
    text = patched;
  }
  LineIndex lines(original, &patches);
  CountingStream is(text);
  *root = Value();
  Builder builder(text, &is, &lines, root);
  rapidjson::Reader reader;
  rapidjson::ParseResult r = reader.Parse<kFlags>(is, builder);
  if (r) return rapidjson::kParseErrorNone;
  if (builder.too_deep()) {
    err->pos = builder.too_deep_pos();
    err->message = "nesting deeper than " + std::to_string(kMaxDepth) + " levels";
  } else {
    err->pos = lines.at(r.Offset());
    err->message = rapidjson::GetParseError_En(r.Code());
  }
  return r.Code();
}

}  // namespace

bool parse(std::string_view text, Value* root, SyntaxError* err) {
  // RapidJSON would take a NUL byte for the end of the text and ignore what follows.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    Patches none;
    err->pos = LineIndex(text, &none).at(nul);
    err->message = "NUL byte in the text (binary data?)";
    return false;
  }
  rapidjson::ParseErrorCode code = parse_once(text, Patches(), root, err);
  if (code == rapidjson::kParseErrorNone) return true;
  // A key without ':' may be workgen's bare "suspend": complete every one and parse again (once:
  // the second parse reports any other error with its place in the original text).
  if (code != rapidjson::kParseErrorObjectMissColon) return false;
  Patches patches(find_bare_suspends(text));
  if (patches.empty()) return false;
  return parse_once(text, patches, root, err) == rapidjson::kParseErrorNone;
}

std::string quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  size_t n = 0;  // characters so far; a cut never splits a UTF-8 sequence
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && n++ == kMax) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string describe(const Value& v) {
  switch (v.type) {
    case Type::kNull: return v.bare ? "no value" : "null";
    case Type::kBool: return v.boolean ? "true" : "false";
    case Type::kNumber: return "number " + v.text;
    case Type::kString: return "string " + quote(v.text);
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "?";
}

}  // namespace proxysim::workload::json
