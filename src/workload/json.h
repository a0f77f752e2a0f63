// A small JSON document model for the rt-app loader.
//
// rt-app reads its input with json-c, which accepts comments and trailing commas and collapses
// duplicate keys. To report every problem with its place in the file and to decide ourselves what
// duplicates mean, the loader parses into this model instead: every value records where it was
// written, and objects keep all their members in file order, duplicate keys included.
//
// One construct beyond json-c is accepted: a member "suspend..." written without a value
// (`"suspend",`), which rt-app 1.0's workgen completes with the enclosing thread's name before
// rt-app reads the file (doc/workgen check_suspend_json; the shipped video-*.json use it). Such a
// member holds a null Value with `bare` set, and the loader decides what it means.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace proxysim::workload::json {

// A place in the input: 1-based line, and 1-based column counted in characters (UTF-8 code
// points; a tab counts as one).
struct Position {
  int line = 0;
  int column = 0;
};

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct Member;

// One JSON value.
// Invariants:
//  1. `pos` is the first character of the value (the quote of a string, the brace of an object).
//  2. kNumber: `text` is the number exactly as written (numbers are never converted on parse).
//  3. kObject: `members` holds every member in file order; a key may occur more than once.
struct Value {
  Type type = Type::kNull;
  Position pos;
  bool boolean = false;         // kBool
  bool bare = false;            // kNull: a bare "suspend..." member, written without a value
  std::string text;             // kString: decoded contents; kNumber: as written
  std::vector<Value> items;     // kArray
  std::vector<Member> members;  // kObject

  bool is_object() const { return type == Type::kObject; }
  bool is_array() const { return type == Type::kArray; }
  bool is_string() const { return type == Type::kString; }
  bool is_bool() const { return type == Type::kBool; }
  bool is_number() const { return type == Type::kNumber; }
  // True for a number written without fraction or exponent ("12", "-1"), whatever its size.
  bool is_integer() const;
  // Stores an integer number that fits in int64_t; false otherwise (not an integer, too big).
  bool get_int64(int64_t* out) const;
};

struct Member {
  std::string key;
  Position key_pos;  // the opening quote of the key
  Value value;
};

struct SyntaxError {
  Position pos;
  std::string message;  // RapidJSON's English message, or our own for the nesting limit
};

// Deeper nesting is refused: it bounds the recursion of everything that walks a document.
inline constexpr int kMaxDepth = 256;

// Parses `text` in the dialect rt-app's json-c accepts: /* */ and // comments, trailing commas
// in objects and arrays; plus workgen's bare "suspend" members (see above). On failure returns
// false, fills *err and leaves *root unspecified. Linear in the size of the text; never throws
// except std::bad_alloc.
bool parse(std::string_view text, Value* root, SyntaxError* err);

// Frees what `v` holds (string text, array items, object members), keeping its type and
// position: the loader drops each task's subtree once it is read, so that the DOM shrinks as
// the Workload grows (a 100,000-task file needs one of the two at a time, not both).
void release(Value* v);

// A short description of a value for messages: `string "abc"`, `number 1.5`, `an object`,
// `no value` (a bare member).
std::string describe(const Value& v);

// `s` between double quotes, with quotes, backslashes and control characters escaped and long
// strings cut, for messages.
std::string quote(std::string_view s);

}  // namespace proxysim::workload::json
