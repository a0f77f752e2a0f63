#include "workload/fields.h"

#include <algorithm>

#include "proxysim/types.h"

namespace proxysim::workload {

std::string Diagnostics::format(json::Position pos, std::string_view path,
                                std::string_view severity, std::string_view message) const {
  std::string s = file_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
  s += severity;
  s += path.empty() ? std::string_view("(root)") : path;
  s += ": ";
  s += message;
  return s;
}

void Diagnostics::error(json::Position pos, std::string_view path, std::string_view message) {
  errors_.push_back({pos, format(pos, path, "", message)});
}

void Diagnostics::warning(json::Position pos, std::string_view path, std::string_view message) {
  warnings_.push_back({pos, format(pos, path, "warning: ", message)});
}

// File order; entries at the same place keep the order in which they were found.
std::vector<std::string> Diagnostics::sorted(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
  });
  std::vector<std::string> lines;
  lines.reserve(entries.size());
  for (Entry& e : entries) lines.push_back(std::move(e.line));
  return lines;
}

std::string Diagnostics::error_text(int max_errors) const {
  std::vector<std::string> lines = sorted(errors_);
  size_t shown = lines.size();
  if (max_errors > 0) shown = std::min(shown, static_cast<size_t>(max_errors));
  std::string text;
  for (size_t i = 0; i < shown; ++i) {
    if (i) text += '\n';
    text += lines[i];
  }
  if (shown < lines.size()) {
    size_t more = lines.size() - shown;
    text += "\n" + file_ + ": " + std::to_string(more) + " more error" + (more > 1 ? "s" : "") +
            " not shown";
  }
  return text;
}

std::vector<std::string> Diagnostics::warning_lines() const { return sorted(warnings_); }

std::string join_path(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

std::string two_places(json::Position a, json::Position b) {
  if (a.line != b.line) return "lines " + std::to_string(a.line) + " and " + std::to_string(b.line);
  return "line " + std::to_string(a.line) + ", columns " + std::to_string(a.column) + " and " +
         std::to_string(b.column);
}

ObjectView::ObjectView(const json::Value& obj, std::string path, Diagnostics* diag)
    : obj_(&obj), path_(std::move(path)) {
  for (const json::Member& m : obj.members) {
    auto [it, inserted] = index_.emplace(m.key, fields_.size());
    if (inserted) {
      fields_.push_back({m.key, m.key_pos, &m.value, join_path(path_, m.key)});
      continue;
    }
    Field& first = fields_[it->second];
    diag->warning(m.key_pos, first.path,
                  "duplicate key " + json::quote(m.key) + " (" +
                      two_places(first.key_pos, m.key_pos) +
                      "): rt-app keeps the last value, at the place of the first key");
    first.value = &m.value;
  }
}

Field* ObjectView::take(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  Field* f = &fields_[it->second];
  f->used = true;
  return f;
}

const Field* ObjectView::peek(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &fields_[it->second];
}

bool read_int(const Field& f, Diagnostics* d, int64_t* out) {
  const json::Value& v = *f.value;
  int64_t x = 0;
  if (!v.is_integer()) {
    d->error(v.pos, f.path, "expected an integer, got " + json::describe(v));
    return false;
  }
  if (!v.get_int64(&x) || x < kIntMin || x > kIntMax) {
    d->error(v.pos, f.path, "integer " + v.text + " out of range (rt-app reads a 32-bit int)");
    return false;
  }
  *out = x;
  return true;
}

bool read_bool(const Field& f, Diagnostics* d, bool* out) {
  if (!f.value->is_bool()) {
    d->error(f.value->pos, f.path, "expected true or false, got " + json::describe(*f.value));
    return false;
  }
  *out = f.value->boolean;
  return true;
}

bool read_string(const Field& f, Diagnostics* d, std::string* out) {
  if (!f.value->is_string()) {
    d->error(f.value->pos, f.path, "expected a string, got " + json::describe(*f.value));
    return false;
  }
  *out = f.value->text;
  return true;
}

bool expect_object(const Field& f, Diagnostics* d) {
  if (f.value->is_object()) return true;
  d->error(f.value->pos, f.path, "expected an object, got " + json::describe(*f.value));
  return false;
}

bool read_us(const Field& f, Diagnostics* d, int64_t* out_ns) {
  int64_t us = 0;
  if (!read_int(f, d, &us)) return false;
  if (us < 0) {
    d->error(f.value->pos, f.path,
             "expected a duration in microseconds >= 0, got " + f.value->text);
    return false;
  }
  *out_ns = us * kNsPerUs;
  return true;
}

namespace {

// Levenshtein distance, for "did you mean" hints on unknown keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view nearest(std::string_view key, const std::vector<std::string_view>& known) {
  std::string_view best;
  size_t best_d = 3;  // at most 2 edits
  for (std::string_view k : known) {
    // At least the difference in length: skips the quadratic distance for long keys.
    size_t len_diff = key.size() > k.size() ? key.size() - k.size() : k.size() - key.size();
    if (len_diff >= best_d) continue;
    size_t d = edit_distance(key, k);
    if (d < best_d && d < key.size()) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& known) {
  std::string_view best = nearest(key, known);
  if (best.empty()) return "";
  return " (did you mean " + json::quote(best) + "?)";
}

std::string unknown_key(std::string_view key, const std::vector<std::string_view>& known) {
  return "unknown key " + json::quote(key) + did_you_mean(key, known);
}

}  // namespace proxysim::workload
