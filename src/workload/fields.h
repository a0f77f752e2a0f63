// Reading rt-app objects out of the JSON model: messages with file:line:column and JSON path,
// rt-app's view of an object (duplicate keys collapsed as json-c does) and typed field readers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "workload/json.h"

namespace proxysim::workload {

// Collects the errors and warnings of one load. Every line reads
// `file:line:column: json.path: message` (errors) or
// `file:line:column: warning: json.path: message` (warnings).
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(json::Position pos, std::string_view path, std::string_view message);
  void warning(json::Position pos, std::string_view path, std::string_view message);

  bool has_errors() const { return !errors_.empty(); }
  // All errors in file order, one per line; past `max_errors` (when > 0) a last line says how
  // many were left out.
  std::string error_text(int max_errors) const;
  // Warnings in file order.
  std::vector<std::string> warning_lines() const;
  const std::string& file() const { return file_; }

 private:
  struct Entry {
    json::Position pos;
    std::string line;
  };
  std::string format(json::Position pos, std::string_view path, std::string_view severity,
                     std::string_view message) const;
  static std::vector<std::string> sorted(std::vector<Entry> entries);

  std::string file_;
  std::vector<Entry> errors_;
  std::vector<Entry> warnings_;
};

// `parent.key`, or `key` at the top level.
std::string join_path(std::string_view parent, std::string_view key);

// `lines 3 and 5`, or `line 3, columns 5 and 20` when both are on one line.
std::string two_places(json::Position a, json::Position b);

// One member of an object as rt-app sees it.
struct Field {
  std::string_view key;
  json::Position key_pos;    // of the first occurrence of the key
  const json::Value* value;  // of the last occurrence of the key
  std::string path;
  bool used = false;  // set by ObjectView::take()
};

// rt-app's view of a JSON object: json-c keeps one member per key, at the place of its first
// occurrence, holding the value of its last occurrence (measured with rt-app 1.0: `"run":1000,
// "sleep":1000, "run":50000` runs 50000 us, then sleeps). Each duplicate is reported as a warning.
class ObjectView {
 public:
  // REQUIRES: obj.is_object(). `obj` must outlive the view.
  ObjectView(const json::Value& obj, std::string path, Diagnostics* diag);

  // The field named exactly `key`, marked used; nullptr when absent.
  Field* take(std::string_view key);
  // The field named exactly `key`, not marked; nullptr when absent.
  const Field* peek(std::string_view key) const;
  std::vector<Field>& fields() { return fields_; }
  const std::string& path() const { return path_; }
  const json::Value& object() const { return *obj_; }

 private:
  const json::Value* obj_;
  std::string path_;
  std::vector<Field> fields_;
  std::map<std::string_view, size_t> index_;
};

// Typed readers. On a type or range error each reports one error at the value and returns false.
// rt-app stores these values in a C int (json_object_get_int), hence the 32-bit ranges.
inline constexpr int64_t kIntMin = INT32_MIN;
inline constexpr int64_t kIntMax = INT32_MAX;

bool read_int(const Field& f, Diagnostics* d, int64_t* out);
bool read_bool(const Field& f, Diagnostics* d, bool* out);
bool read_string(const Field& f, Diagnostics* d, std::string* out);
// An object, as a view (with its own duplicate-key handling).
bool expect_object(const Field& f, Diagnostics* d);

// Microseconds >= 0, converted to ns.
bool read_us(const Field& f, Diagnostics* d, int64_t* out_ns);

// The member of `known` nearest to `key` when it is at most 2 edits away (and fewer edits than
// `key` has characters), else empty.
std::string_view nearest(std::string_view key, const std::vector<std::string_view>& known);

// ` (did you mean "bar"?)` for the nearest of `known`, or empty.
std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& known);

// `unknown key "foo"`, with a "did you mean" hint when `key` is at most 2 edits from one of
// `known`.
std::string unknown_key(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace proxysim::workload
