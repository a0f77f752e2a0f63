// The tracefs text form: header lines starting with '#', then one event per line,
//   <comm>-<pid> [(<tgid>)] [<cpu>] <flags> <secs>.<usecs>: <event>: <args>
// as printed by the kernel's trace_print_context() (and by FtraceWriter). Comms may hold spaces
// and dashes, so the line is anchored on the "[<cpu>]" column and the args on their fixed keys.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

#include "analyze/trace_reader.h"

namespace proxysim {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_int(std::string_view s, int* out) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  if (!all_digits(s) || s.size() > 9) return false;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *out = neg ? -v : v;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Values of `keys` (in their fixed order, each written " key=" except the first "key=") in
// `args`. A value runs up to the next key, so comms with spaces survive. False if a key is
// missing.
bool split_keys(std::string_view args, std::initializer_list<std::string_view> keys,
                std::vector<std::string_view>* vals) {
  vals->clear();
  size_t pos = 0;
  std::vector<std::string_view> ks(keys);
  for (size_t i = 0; i < ks.size(); ++i) {
    std::string k = std::string(ks[i]) + "=";
    size_t at;
    if (i == 0) {
      if (args.substr(0, k.size()) != k) return false;
      at = 0;
    } else {
      at = args.find(" " + k, pos);
      if (at == std::string_view::npos) return false;
      ++at;
    }
    if (i > 0) vals->back() = args.substr(pos, at - 1 - pos);  // without the space
    pos = at + k.size();
    vals->push_back(args.substr(pos));
  }
  // The last value ends at the first space (trailing fields of newer kernels are ignored).
  std::string_view& last = vals->back();
  size_t sp = last.find(' ');
  if (sp != std::string_view::npos) last = last.substr(0, sp);
  return true;
}

// Decodes the event-specific part. False when its fields do not parse.
bool parse_args(RawEvent* e, std::string_view args) {
  std::vector<std::string_view> v;
  switch (e->kind) {
    case RawEvent::kSwitch: {
      // prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d
      // next_prio=%d
      if (!split_keys(args,
                      {"prev_comm", "prev_pid", "prev_prio", "prev_state", "next_comm", "next_pid",
                       "next_prio"},
                      &v))
        return false;
      std::string_view state = v[3];
      if (state.size() < 4 || state.substr(state.size() - 4) != " ==>") return false;
      state = trim(state.substr(0, state.size() - 4));
      e->prev_comm.assign(v[0]);
      e->prev_state.assign(state);
      e->next_comm.assign(v[4]);
      return parse_int(v[1], &e->prev_pid) && parse_int(v[2], &e->prev_prio) &&
             parse_int(v[5], &e->next_pid) && parse_int(v[6], &e->next_prio);
    }
    case RawEvent::kWaking:
    case RawEvent::kWakeup:
    case RawEvent::kWakeupNew: {
      // comm=%s pid=%d prio=%d target_cpu=%03d (older kernels: success=%d before target_cpu)
      if (!split_keys(args, {"comm", "pid", "prio", "target_cpu"}, &v)) {
        return false;
      }
      std::string_view prio = v[2];
      size_t sp = prio.find(' ');
      if (sp != std::string_view::npos) prio = prio.substr(0, sp);
      e->prev_comm.assign(v[0]);
      return parse_int(v[1], &e->prev_pid) && parse_int(prio, &e->prev_prio) &&
             parse_int(v[3], &e->target_cpu);
    }
    case RawEvent::kMigrate:
      if (!split_keys(args, {"comm", "pid", "prio", "orig_cpu", "dest_cpu"}, &v)) return false;
      e->prev_comm.assign(v[0]);
      return parse_int(v[1], &e->prev_pid) && parse_int(v[2], &e->prev_prio) &&
             parse_int(v[3], &e->orig_cpu) && parse_int(v[4], &e->target_cpu);
    case RawEvent::kPiSetprio:
      if (!split_keys(args, {"comm", "pid", "oldprio", "newprio"}, &v)) return false;
      e->prev_comm.assign(v[0]);
      return parse_int(v[1], &e->prev_pid) && parse_int(v[2], &e->prev_prio) &&
             parse_int(v[3], &e->next_prio);
    case RawEvent::kExit:
      if (!split_keys(args, {"comm", "pid", "prio"}, &v)) return false;
      e->prev_comm.assign(v[0]);
      return parse_int(v[1], &e->prev_pid) && parse_int(v[2], &e->prev_prio);
    case RawEvent::kMarker: e->text.assign(trim(args)); return true;
    case RawEvent::kOther: return true;
  }
  return false;
}

RawEvent::Kind kind_of(std::string_view name) {
  if (name == "sched_switch") return RawEvent::kSwitch;
  if (name == "sched_waking") return RawEvent::kWaking;
  if (name == "sched_wakeup") return RawEvent::kWakeup;
  if (name == "sched_wakeup_new") return RawEvent::kWakeupNew;
  if (name == "sched_migrate_task") return RawEvent::kMigrate;
  if (name == "sched_pi_setprio") return RawEvent::kPiSetprio;
  if (name == "sched_process_exit") return RawEvent::kExit;
  // trace_marker writes: tracefs prints "tracing_mark_write: <text>"; some tools print "print:".
  if (name == "tracing_mark_write" || name == "print") return RawEvent::kMarker;
  return RawEvent::kOther;
}

// Parses one event line. On failure returns false with *why set.
bool parse_line(std::string_view line, RawEvent* e, std::string* why) {
  // Anchor: the first "[<digits>]" preceded by "-<pid>" (and an optional "(<tgid>)").
  size_t open = 0;
  for (;;) {
    open = line.find('[', open);
    if (open == std::string_view::npos) {
      *why = "no [CPU] column";
      return false;
    }
    size_t close = line.find(']', open);
    if (close != std::string_view::npos && all_digits(line.substr(open + 1, close - open - 1))) {
      std::string_view head = trim(line.substr(0, open));
      // Optional "(tgid)" column.
      if (!head.empty() && head.back() == ')') {
        size_t lp = head.rfind('(');
        if (lp == std::string_view::npos) {
          *why = "bad TGID column";
          return false;
        }
        head = trim(head.substr(0, lp));
      }
      size_t dash = head.rfind('-');
      if (dash == std::string_view::npos || !parse_int(head.substr(dash + 1), &e->ctx_pid)) {
        ++open;
        continue;
      }
      e->ctx_comm.assign(trim(head.substr(0, dash)));
      if (!parse_int(line.substr(open + 1, close - open - 1), &e->cpu)) {
        *why = "bad CPU number";
        return false;
      }
      line = line.substr(close + 1);
      break;
    }
    ++open;
  }
  // Flags (optional, up to 8 characters without spaces) and timestamp.
  line = trim(line);
  size_t colon = line.find(": ");
  if (colon == std::string_view::npos) {
    *why = "no timestamp";
    return false;
  }
  std::string_view mid = trim(line.substr(0, colon));
  std::string_view ts = mid;
  size_t sp = mid.rfind(' ');
  if (sp != std::string_view::npos) {
    std::string_view flags = trim(mid.substr(0, sp));
    ts = mid.substr(sp + 1);
    e->hardirq = flags.size() >= 3 && (flags[2] == 'h' || flags[2] == 'H');
  }
  if (!parse_trace_timestamp(ts, &e->t)) {
    *why = fmt::format("bad timestamp \"{}\"", ts);
    return false;
  }
  line = line.substr(colon + 2);
  size_t ecolon = line.find(':');
  std::string_view name = trim(line.substr(0, ecolon));
  std::string_view args = ecolon == std::string_view::npos ? "" : line.substr(ecolon + 1);
  e->name.assign(name);
  e->kind = kind_of(name);
  if (e->kind != RawEvent::kMarker)
    args = trim(args);
  else if (!args.empty() && args.front() == ' ')
    args.remove_prefix(1);
  if (!parse_args(e, args)) {
    *why = fmt::format("cannot decode the fields of {}", name);
    return false;
  }
  return true;
}

}  // namespace

bool parse_trace_timestamp(std::string_view s, Time* out) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = s.substr(dot + 1);
  if (!all_digits(ip) || !all_digits(fp) || ip.size() > 9 || fp.size() > 9) return false;
  Time v = 0;
  for (char c : ip) v = v * 10 + (c - '0');
  Time f = 0;
  for (char c : fp) f = f * 10 + (c - '0');
  for (size_t i = fp.size(); i < 9; ++i) f *= 10;
  *out = v * kNsPerSec + f;
  return true;
}

std::string prev_state_letters(int64_t state) {
  static constexpr char kLetters[] = "SDTtXZPI";
  std::string out;
  int64_t s = state & 0xff;
  for (int i = 0; i < 8; ++i) {
    if (s & (int64_t{1} << i)) {
      if (!out.empty()) out += '|';
      out += kLetters[i];
    }
  }
  if (out.empty()) out = "R";
  if (state & 0x100) out += '+';
  return out;
}

Status parse_trace_text(const std::string& text, const std::string& name, TraceData* out) {
  out->format = "text";
  std::string_view rest = text;
  int64_t lineno = 0;
  int max_cpu = -1;
  bool saw_header = false;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    bool last_unterminated = nl == std::string_view::npos;
    std::string_view line = rest.substr(0, nl);
    rest = last_unterminated ? std::string_view() : rest.substr(nl + 1);
    ++lineno;
    std::string_view tl = trim(line);
    if (tl.empty()) continue;
    if (tl.front() == '#') {
      saw_header = true;
      size_t p = tl.find("#P:");
      if (p != std::string_view::npos) {
        std::string_view n = tl.substr(p + 3);
        size_t sp = n.find(' ');
        int cpus = 0;
        if (parse_int(n.substr(0, sp), &cpus) && cpus > 0 && cpus <= 65536) out->nr_cpus = cpus;
      }
      continue;
    }
    // "CPU:1 [LOST 123 EVENTS]" and "##### CPU 1 buffer started ####".
    if (tl.find("[LOST ") != std::string_view::npos) {
      size_t p = tl.find("[LOST ") + 6;
      size_t e = tl.find(' ', p);
      int n = 0;
      if (parse_int(tl.substr(p, e - p), &n)) out->lost_events += n;
      continue;
    }
    if (tl.substr(0, 5) == "cpus=") continue;  // trace-cmd report's first line
    RawEvent e;
    std::string why;
    if (!parse_line(tl, &e, &why)) {
      if (last_unterminated) {
        out->truncated = true;
        why = "last line cut short: " + why;
      }
      if (out->malformed++ == 0) out->first_malformed = fmt::format("{}:{}: {}", name, lineno, why);
      continue;
    }
    max_cpu = std::max(max_cpu, e.cpu);
    if (e.kind == RawEvent::kOther) ++out->skipped[e.name];
    out->events.push_back(std::move(e));
  }
  if (out->events.empty()) {
    return Status::invalid(
        fmt::format("{}: no trace event found ({}){}", name,
                    saw_header ? "only header lines" : "not a tracefs text trace or trace.dat",
                    out->malformed ? "; first undecodable line: " + out->first_malformed : ""));
  }
  if (max_cpu >= 65536) return Status::invalid(fmt::format("{}: CPU number too large", name));
  out->nr_cpus = std::max(out->nr_cpus, max_cpu + 1);
  // tracefs prints the events merged in time order; keep the file order for equal times.
  std::stable_sort(out->events.begin(), out->events.end(),
                   [](const RawEvent& a, const RawEvent& b) { return a.t < b.t; });
  return Status::ok();
}

Status read_trace(const std::string& path, TraceData* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::invalid(fmt::format("{}: cannot open trace", path));
  char magic[10] = {};
  f.read(magic, sizeof magic);
  if (f.gcount() == sizeof magic && magic[0] == 0x17 && magic[1] == 0x08 && magic[2] == 0x44 &&
      std::string_view(magic + 3, 7) == "tracing") {
    f.close();
    return read_trace_dat(path, out);
  }
  f.clear();
  f.seekg(0);
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  if (text.find('\0') != std::string::npos)
    return Status::invalid(
        fmt::format("{}: binary data that is not a trace.dat (expected tracefs text or trace-cmd's "
                    "trace.dat)",
                    path));
  return parse_trace_text(text, path, out);
}

}  // namespace proxysim
