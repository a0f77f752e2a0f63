// Errors as values. No exception escapes the library; the CLI maps Status codes to exit codes.
#pragma once

#include <string>
#include <utility>

namespace proxysim {

// Exit codes of the CLI contract (DESIGN.md §8).
enum class StatusCode : int {
  kOk = 0,
  kWorkloadFailed = 1,  // deadlock, unlock by non-owner, DL admission rejected, ...
  kInvalidInput = 2,    // usage or invalid workload file
  kInternal = 3,        // internal error or invariant violation
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }
  static Status workload_failed(std::string m) {
    return {StatusCode::kWorkloadFailed, std::move(m)};
  }
  static Status invalid(std::string m) { return {StatusCode::kInvalidInput, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  int exit_code() const { return static_cast<int>(code_); }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace proxysim
