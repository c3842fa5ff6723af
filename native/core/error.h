// error.h — the one error type native code throws: a stable code plus a message for people.
#pragma once
#include <stdexcept>
#include <string>

namespace cudnet {

// Codes are stable strings that JavaScript sees as `err.code`.
// Examples: "SHAPE_MISMATCH", "OUT_OF_MEMORY", "INVALID_ARGUMENT", "CUDNN_STATUS_BAD_PARAM".
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace cudnet
