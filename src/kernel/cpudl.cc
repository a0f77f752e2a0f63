#include "kernel/cpudl.h"

#include <fmt/format.h>

namespace proxysim {

std::string CpuDl::verify() const {
  for (size_t i = 0; i < heap_.size(); ++i) {
    const int cpu = heap_[i];
    if (cpu < 0 || static_cast<size_t>(cpu) >= pos_.size() ||
        pos_[static_cast<size_t>(cpu)] != static_cast<int>(i))
      return fmt::format("cpudl: heap entry {} names cpu {}, which does not point back to it", i,
                         cpu);
    if (i > 0 && above(cpu, heap_[(i - 1) / 2]))
      return fmt::format("cpudl: cpu {} (deadline {}) is above its parent cpu {} (deadline {})",
                         cpu, key_[static_cast<size_t>(cpu)], heap_[(i - 1) / 2],
                         key_[static_cast<size_t>(heap_[(i - 1) / 2])]);
  }
  size_t present = 0;
  for (size_t c = 0; c < pos_.size(); ++c) {
    present += pos_[c] >= 0;
    if (busy_.test(static_cast<int>(c)) != (pos_[c] >= 0))
      return fmt::format("cpudl: cpu {} is {} in the heap but {} in the busy mask", c,
                         pos_[c] >= 0 ? "present" : "absent",
                         busy_.test(static_cast<int>(c)) ? "set" : "clear");
  }
  if (present != heap_.size())
    return fmt::format("cpudl: {} CPUs present, {} in the heap", present, heap_.size());
  return "";
}

}  // namespace proxysim
