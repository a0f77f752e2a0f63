// proxysim_genwork: writes the benchmarks' generated workloads as rt-app JSON on stdout, so that
// the large runs the README reports can be repeated with the CLI (and with `--stats`):
//   proxysim_genwork fair TASKS [SEED]                 (bench::random_fair, seed 42 by default)
//   proxysim_genwork sleepers DEFS INSTANCES [SEED]    (bench::instanced_sleepers, seed 7)
//   proxysim_genwork mix16                             (bench::mixed16: BM_Mixed16_*, 16 CPUs)
//   proxysim_genwork football CPUS                     (bench::football: BM_Football*, 8 CPUs)
//   proxysim_genwork dlset                             (bench::dl_set: BM_DlSet4Cpus100s, 4 CPUs)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "workloads.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: proxysim_genwork fair TASKS [SEED]\n"
               "       proxysim_genwork sleepers DEFS INSTANCES [SEED]\n"
               "       proxysim_genwork mix16\n"
               "       proxysim_genwork football CPUS\n"
               "       proxysim_genwork dlset\n");
  return 2;
}

bool parse(const char* s, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string kind = argv[1];
  long long a = 0, b = 0, seed = 0;
  std::string json;
  if (kind == "fair" && (argc == 3 || argc == 4) && parse(argv[2], 1, 1 << 20, &a) &&
      (argc == 3 || parse(argv[3], 0, INT64_MAX, &seed))) {
    json = proxysim::bench::random_fair(static_cast<int>(a), argc == 4 ? seed : 42);
  } else if (kind == "sleepers" && (argc == 4 || argc == 5) && parse(argv[2], 1, 1 << 20, &a) &&
             parse(argv[3], 1, 1 << 20, &b) && (argc == 4 || parse(argv[4], 0, INT64_MAX, &seed))) {
    json = proxysim::bench::instanced_sleepers(static_cast<int>(a), static_cast<int>(b),
                                               argc == 5 ? seed : 7);
  } else if (kind == "mix16" && argc == 2) {
    json = proxysim::bench::mixed16();
  } else if (kind == "dlset" && argc == 2) {
    json = proxysim::bench::dl_set();
  } else if (kind == "football" && argc == 3 && parse(argv[2], 1, 4096, &a)) {
    json = proxysim::bench::football(static_cast<int>(a));
  } else {
    return usage();
  }
  return std::fwrite(json.data(), 1, json.size(), stdout) == json.size() ? 0 : 1;
}
