// Basic vocabulary shared by every layer: virtual time, ids, CPU masks, scheduling policies.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace proxysim {

// Virtual time in nanoseconds. Never floating point in a scheduling decision (DESIGN.md §3).
using Time = int64_t;
inline constexpr Time kNsPerUs = 1000;
inline constexpr Time kNsPerMs = 1000 * kNsPerUs;
inline constexpr Time kNsPerSec = 1000 * kNsPerMs;
inline constexpr Time kTimeNever = INT64_MAX;

// Scheduling policies, with the kernel's numbering (include/uapi/linux/sched.h).
enum class Policy : uint8_t {
  kNormal = 0,  // SCHED_OTHER
  kFifo = 1,
  kRr = 2,
  kBatch = 3,
  kIdle = 5,
  kDeadline = 6,
};

std::string_view policy_name(Policy p);  // "SCHED_OTHER", ...
bool parse_policy(std::string_view s, Policy* out);
inline bool is_rt_policy(Policy p) { return p == Policy::kFifo || p == Policy::kRr; }
inline bool is_fair_policy(Policy p) {
  return p == Policy::kNormal || p == Policy::kBatch || p == Policy::kIdle;
}

// A set of CPUs (cpumask_t). Dense bit vector; empty() means "no CPU". Masks of up to 128 CPUs
// are stored inline (no heap block: every task holds one, and a million tasks are simulated).
class CpuMask {
 public:
  CpuMask() = default;
  static CpuMask all(int nr_cpus);
  static CpuMask of(std::initializer_list<int> cpus);

  void set(int cpu);
  void clear(int cpu);
  bool test(int cpu) const {
    size_t w = static_cast<size_t>(cpu) / 64;
    return cpu >= 0 && w < bits_.size() && ((bits_[w] >> (cpu % 64)) & 1);
  }
  bool empty() const;
  int weight() const;
  int first() const;        // -1 when empty
  int next(int cpu) const;  // first set bit > cpu, or -1
  int last() const;         // -1 when empty
  bool intersects(const CpuMask& o) const;
  bool subset_of(const CpuMask& o) const;
  CpuMask operator&(const CpuMask& o) const;
  bool operator==(const CpuMask& o) const;
  std::string to_string() const;  // "0-3,6"

 private:
  void trim();

  // The words of the mask, low CPUs first, trimmed of zero words at the end (trim()): a vector
  // of uint64_t with room for kInline words in the object itself.
  class Words {
   public:
    Words() = default;
    Words(const Words& o) { assign(o); }
    Words(Words&& o) noexcept { steal(o); }
    Words& operator=(const Words& o) {
      if (this != &o) assign(o);
      return *this;
    }
    Words& operator=(Words&& o) noexcept {
      if (this != &o) {
        release();
        steal(o);
      }
      return *this;
    }
    ~Words() { release(); }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    uint64_t& operator[](size_t i) { return data()[i]; }
    uint64_t operator[](size_t i) const { return data()[i]; }
    uint64_t back() const { return data()[size_ - 1]; }
    void pop_back() { --size_; }
    const uint64_t* begin() const { return data(); }
    const uint64_t* end() const { return data() + size_; }
    // New words are 0.
    void resize(size_t n) {
      if (n > cap_) {
        uint32_t cap = std::max(static_cast<uint32_t>(n), 2 * cap_);
        uint64_t* h = new uint64_t[cap];
        uint32_t size = size_;
        std::copy(begin(), end(), h);
        release();
        heap_ = h;
        cap_ = cap;
        size_ = size;
      }
      uint64_t* d = data();
      for (size_t i = size_; i < n; ++i) d[i] = 0;
      size_ = static_cast<uint32_t>(n);
    }
    bool operator==(const Words& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

   private:
    static constexpr uint32_t kInline = 2;
    uint64_t* data() { return cap_ > kInline ? heap_ : inline_; }
    const uint64_t* data() const { return cap_ > kInline ? heap_ : inline_; }
    void release() {
      if (cap_ > kInline) delete[] heap_;
      cap_ = kInline;
      size_ = 0;
    }
    void assign(const Words& o) {
      size_ = 0;
      resize(o.size_);
      std::copy(o.begin(), o.end(), data());
    }
    void steal(Words& o) {
      size_ = o.size_;
      cap_ = o.cap_;
      if (o.cap_ > kInline) {
        heap_ = o.heap_;
      } else {
        std::copy(o.begin(), o.end(), inline_);
      }
      o.cap_ = kInline;
      o.size_ = 0;
    }
    uint32_t size_ = 0;
    uint32_t cap_ = kInline;
    union {
      uint64_t inline_[kInline];
      uint64_t* heap_;
    };
  };
  Words bits_;
};

}  // namespace proxysim
