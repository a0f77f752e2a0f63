// Capture, step by step (reference/rt-app-and-trace-formats.md §2.8):
//  1. unshare(CLONE_NEWNS): every mount below is private to this process and its children and
//     disappears with them; tracefs is mounted at /sys/kernel/tracing if it is not already.
//  2. mkdir instances/proxysim-<pid>, size its buffer, enable the sched events, turn it on.
//  3. rt-app runs in a child with its own mount namespace in which the instance is bind-mounted
//     over /sys/kernel/tracing and /sys/kernel/debug/tracing, so that its trace_marker writes
//     (1.0 hard-codes the debugfs path) land in our instance and nowhere else.
//  4. tracing off; `trace` copied to the output; `trace-cmd extract -B` for trace.dat.
//  5. rmdir the instance (always: on error and after SIGINT/SIGTERM too).
#include "analyze/capture.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace proxysim {
namespace {

constexpr const char* kTracefs = "/sys/kernel/tracing";
constexpr const char* kEvents[] = {"sched_switch",      "sched_waking",       "sched_wakeup",
                                   "sched_wakeup_new",  "sched_migrate_task", "sched_pi_setprio",
                                   "sched_process_exit"};

volatile sig_atomic_t g_signal = 0;
volatile pid_t g_child = -1;

void on_signal(int sig) {
  g_signal = sig;
  if (g_child > 0) kill(g_child, SIGINT);  // rt-app stops its threads and exits on SIGINT
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

bool write_str(const std::string& path, const std::string& v, std::string* err) {
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0) {
    *err = fmt::format("{}: {}", path, std::strerror(errno));
    return false;
  }
  ssize_t n = write(fd, v.data(), v.size());
  int e = errno;
  close(fd);
  if (n != static_cast<ssize_t>(v.size())) {
    *err = fmt::format("{}: {}", path, std::strerror(e));
    return false;
  }
  return true;
}

// Whether tracefs is mounted at kTracefs; mounts it (in our private namespace) if not.
bool ensure_tracefs(std::string* err) {
  if (exists(std::string(kTracefs) + "/instances")) return true;
  if (!exists(kTracefs)) {
    *err = fmt::format("{} does not exist: this kernel has no tracefs (CONFIG_TRACING)", kTracefs);
    return false;
  }
  if (mount("nodev", kTracefs, "tracefs", 0, nullptr) != 0) {
    *err = fmt::format("cannot mount tracefs on {}: {}", kTracefs, std::strerror(errno));
    return false;
  }
  if (!exists(std::string(kTracefs) + "/instances")) {
    *err = fmt::format("{} has no instances directory", kTracefs);
    return false;
  }
  return true;
}

bool private_namespace(std::string* err) {
  if (unshare(CLONE_NEWNS) != 0) {
    *err = fmt::format("unshare(CLONE_NEWNS): {}", std::strerror(errno));
    return false;
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    *err = fmt::format("making / a private mount: {}", std::strerror(errno));
    return false;
  }
  return true;
}

// The workload with global.ftrace = true (rt-app writes its markers only then) and logdir set
// to `logdir`, as JSON text. rt-app files may have comments and trailing commas.
Status prepare_workload(const std::string& path, const std::string& logdir, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::invalid(fmt::format("{}: cannot read", path));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  rapidjson::Document d;
  d.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.c_str());
  if (d.HasParseError() || !d.IsObject())
    return Status::invalid(fmt::format("{}: not a JSON object: {}", path,
                                       rapidjson::GetParseError_En(d.GetParseError())));
  auto& a = d.GetAllocator();
  if (!d.HasMember("global")) d.AddMember("global", rapidjson::Value(rapidjson::kObjectType), a);
  rapidjson::Value& g = d["global"];
  if (!g.IsObject()) return Status::invalid(fmt::format("{}: global is not an object", path));
  for (const char* k : {"ftrace", "logdir"}) g.RemoveMember(k);
  g.AddMember("ftrace", true, a);
  g.AddMember("logdir", rapidjson::Value(logdir.c_str(), a), a);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d.Accept(w);
  *out = sb.GetString();
  return Status::ok();
}

bool copy_file(const std::string& from, const std::string& to, std::string* err) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream o(to, std::ios::binary);
  if (!in || !o) {
    *err = fmt::format("cannot copy {} to {}", from, to);
    return false;
  }
  o << in.rdbuf();
  o.close();
  if (!o) {
    *err = fmt::format("cannot write {}", to);
    return false;
  }
  return true;
}

// Runs argv with stdout+stderr to `log`; returns the exit status (128 + signal), -1 on failure.
int run_child(const std::vector<std::string>& argv, const std::string& log,
              const std::string& instance, bool mount_markers) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (!mount_markers && !instance.empty()) {
      // trace-cmd extract: hide /proc/kallsyms (5 MB that analysis never needs) so that the
      // trace.dat stays small; only this child sees the bind mount.
      std::string err;
      if (private_namespace(&err)) mount("/dev/null", "/proc/kallsyms", nullptr, MS_BIND, nullptr);
    }
    if (mount_markers) {
      // Our own namespace: the instance stands in for both tracing directories.
      std::string err;
      bool ok = private_namespace(&err);
      if (ok && mount("none", "/sys/kernel/debug", "tmpfs", 0, nullptr) == 0) {
        mkdir("/sys/kernel/debug/tracing", 0755);
        ok = mount(instance.c_str(), "/sys/kernel/debug/tracing", nullptr, MS_BIND, nullptr) == 0;
      } else {
        ok = false;
      }
      ok = ok && mount(instance.c_str(), kTracefs, nullptr, MS_BIND, nullptr) == 0;
      if (!ok) {
        std::fprintf(stderr,
                     "proxysim capture: cannot bind the instance for rt-app's markers: %s\n",
                     err.empty() ? std::strerror(errno) : err.c_str());
        _exit(126);
      }
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "proxysim capture: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  g_child = pid;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      g_child = -1;
      return -1;
    }
  }
  g_child = -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Removes the instance when it goes out of scope (tracing off first).
struct Instance {
  std::string dir;
  ~Instance() { remove(); }
  void remove() {
    if (dir.empty()) return;
    std::string err;
    write_str(dir + "/tracing_on", "0", &err);
    for (int i = 0; i < 50 && exists(dir); ++i) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      usleep(20000);  // EBUSY while a reader (trace-cmd) still has a file open
    }
    if (exists(dir)) std::fprintf(stderr, "proxysim: could not remove %s\n", dir.c_str());
    dir.clear();
  }
};

}  // namespace

Status capture_available() {
  if (geteuid() != 0)
    return Status::workload_failed(
        "capture needs root (it creates a tracefs instance, enables sched events and runs "
        "rt-app with real-time policies); run it as root or with sudo");
  if (!exists(kTracefs))
    return Status::workload_failed(
        fmt::format("{} does not exist: this kernel has no tracefs (CONFIG_TRACING)", kTracefs));
  return Status::ok();
}

Status capture_workload(const CaptureOptions& opt, CaptureResult* out) {
  Status avail = capture_available();
  if (!avail.is_ok()) return avail;
  char tmpl[] = "/tmp/proxysim-capture-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    return Status::internal(fmt::format("mkdtemp: {}", std::strerror(errno)));
  std::string tmp = tmpl;
  std::string json;
  Status s = prepare_workload(opt.workload, tmp, &json);
  if (!s.is_ok()) return s;
  std::string wl = tmp + "/workload.json";
  {
    std::ofstream f(wl, std::ios::binary);
    f << json;
  }
  std::string err;
  if (!private_namespace(&err) || !ensure_tracefs(&err))
    return Status::workload_failed("capture: tracefs is not usable: " + err);

  Instance inst;
  std::string name = fmt::format("proxysim-{}", getpid());
  std::string dir = fmt::format("{}/instances/{}", kTracefs, name);
  if (mkdir(dir.c_str(), 0755) != 0)
    return Status::workload_failed(fmt::format("capture: cannot create the tracefs instance {}: {}",
                                               dir, std::strerror(errno)));
  inst.dir = dir;
  // Signals from here on stop rt-app and still clean up.
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int, old_term, old_hup;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGHUP, &sa, &old_hup);
  auto restore = [&] {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGHUP, &old_hup, nullptr);
  };

  bool ok = write_str(dir + "/tracing_on", "0", &err) &&
            write_str(dir + "/buffer_size_kb", std::to_string(opt.buffer_kb), &err);
  for (const char* e : kEvents) {
    if (!ok) break;
    std::string p = fmt::format("{}/events/sched/{}/enable", dir, e);
    if (!exists(p)) {
      if (std::string_view(e) == "sched_pi_setprio" || std::string_view(e) == "sched_waking")
        std::fprintf(stderr, "proxysim: capture: this kernel has no %s event\n", e);
      continue;
    }
    ok = write_str(p, "1", &err);
  }
  ok = ok && write_str(dir + "/trace", "", &err) && write_str(dir + "/tracing_on", "1", &err);
  if (!ok) {
    restore();
    return Status::workload_failed("capture: setting up the tracefs instance: " + err);
  }

  std::string log = tmp + "/rt-app.out";
  std::vector<std::string> argv = opt.prefix;
  argv.push_back(opt.rtapp);
  argv.push_back(wl);
  int rc = g_signal ? -2 : run_child(argv, log, dir, /*mount_markers=*/true);
  write_str(dir + "/tracing_on", "0", &err);
  out->rtapp_status = rc;
  out->rtapp_output = slurp(log);
  out->interrupted = g_signal != 0;

  Status result = Status::ok();
  if (!copy_file(dir + "/trace", opt.out, &err)) result = Status::invalid("capture: " + err);
  if (result.is_ok() && !opt.dat.empty()) {
    // `trace-cmd extract` reads the instance's raw buffers (it consumes them: after `trace`).
    int xrc = run_child({"trace-cmd", "extract", "-B", name, "-o", opt.dat}, tmp + "/extract.out",
                        dir, /*mount_markers=*/false);
    if (xrc != 0) {
      out->dat_note = fmt::format("trace-cmd extract failed ({}): {}",
                                  xrc == 127 ? "not installed" : std::to_string(xrc),
                                  slurp(tmp + "/extract.out"));
      unlink(opt.dat.c_str());
    }
  }
  inst.remove();
  restore();
  unlink(wl.c_str());
  unlink(log.c_str());
  unlink((tmp + "/extract.out").c_str());
  // rt-app's per-thread logs went to tmp: remove them too.
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  if (!result.is_ok()) return result;
  if (out->interrupted) return Status::workload_failed("capture interrupted (trace written)");
  if (rc == 127)
    return Status::workload_failed(
        fmt::format("capture: {} not found (Debian package rt-app)", opt.rtapp));
  if (rc != 0)
    return Status::workload_failed(fmt::format(
        "capture: rt-app exited with status {}; its output:\n{}", rc, out->rtapp_output));
  return Status::ok();
}

int capture_main(const CaptureOptions& opt) {
  CaptureResult r;
  Status s = capture_workload(opt, &r);
  if (!r.dat_note.empty()) std::fprintf(stderr, "proxysim: no trace.dat: %s\n", r.dat_note.c_str());
  if (!s.is_ok()) {
    std::fprintf(stderr, "proxysim: %s\n", s.message().c_str());
    return s.exit_code();
  }
  if (!opt.quiet) {
    std::printf("captured %s with rt-app into %s%s\n", opt.workload.c_str(), opt.out.c_str(),
                opt.dat.empty() || !r.dat_note.empty() ? "" : (" and " + opt.dat).c_str());
  }
  return 0;
}

}  // namespace proxysim
