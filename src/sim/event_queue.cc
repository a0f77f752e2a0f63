#include "sim/event_queue.h"

#include <fmt/format.h>

namespace proxysim {

std::string EventQueue::verify() const {
  const size_t n = heap_.size();
  for (size_t i = 1; i < n; ++i) {
    const Node& e = heap_[i];
    if (i > 1 && e.key < heap_[i / 2].key)
      return fmt::format("event queue: node {} (slot {}) is earlier than its parent", i, e.slot);
    if (e.slot & kFireOnce) {
      if ((e.slot & ~kFireOnce) >= fired_.size() || fired_[e.slot & ~kFireOnce])
        return fmt::format("event queue: node {} names fire-once slot {}, not armed", i,
                           e.slot & ~kFireOnce);
    } else if (e.slot == 0 || e.slot >= pos_.size() || pos_[e.slot] != i) {
      return fmt::format("event queue: node {} names slot {}, which does not point back to it", i,
                         e.slot);
    }
  }
  size_t armed = 0;
  for (size_t s = 1; s < pos_.size(); ++s) {
    if (pos_[s] == 0) continue;
    ++armed;
    if (pos_[s] >= n || heap_[pos_[s]].slot != s)
      return fmt::format("event queue: slot {} points at node {}, which is not its event", s,
                         pos_[s]);
  }
  for (uint8_t f : fired_) armed += !f;
  if (armed != n - 1)
    return fmt::format("event queue: {} slots armed, {} events queued", armed, n - 1);
  return "";
}

}  // namespace proxysim
