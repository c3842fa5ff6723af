// labels.h — the error every backend raises for a class label outside [0, channels), so the CPU and
// the GPU (which finds the label on the device, see LabelCheck in params.h) say the same thing.
#pragma once
#include <cmath>
#include <cstddef>
#include <string>

#include "error.h"

namespace cudnet {

// INVALID_ARGUMENT naming the label as Caffe would read it (truncated), its position and the valid
// range; a label that is not finite is shown as it is. The stream prefixes the op's name.
inline Error labelOutsideRange(float value, size_t position, int channels) {
  std::string shown = std::isfinite(value) ? std::to_string(static_cast<long long>(value)) : std::to_string(value);
  return Error("INVALID_ARGUMENT", "label " + shown + " at position " + std::to_string(position) +
                                       " is outside [0, " + std::to_string(channels) + ")");
}

}  // namespace cudnet
