// Workload generators shared by the benchmark files.
#pragma once

#include <cstdint>
#include <string>

#include "sim/event_queue.h"

namespace proxysim::bench {

// Scale: `tasks` fair tasks of mixed nice, each looping run U[50,2000] us / sleep U[1,50] ms.
// Random but fixed per task index and seed, so one workload per size. Each run/sleep pair is
// one rt-app phase; a task has 4 of them.
inline std::string random_fair(int tasks, uint64_t seed) {
  Rng rng(seed);
  std::string json = R"({"tasks": {)";
  for (int i = 0; i < tasks; ++i) {
    json += (i ? ",\"t" : "\"t") + std::to_string(i) + R"(": {"priority": )" +
            std::to_string(static_cast<int>(rng.below(11)) - 5) + R"(, "phases": {)";
    for (int ph = 0; ph < 4; ++ph)
      json += (ph ? ",\"p" : "\"p") + std::to_string(ph) + R"(": {"run": )" +
              std::to_string(50 + rng.below(1950)) + R"(, "sleep": )" +
              std::to_string(1000 + rng.below(49000)) + "}";
    json += "}}";
  }
  return json + "}}";
}

}  // namespace proxysim::bench
