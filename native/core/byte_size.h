// byte_size.h — reads a size that people write in an environment variable: "512", "512M", "1.5G", "2GiB".
#pragma once
#include <cstddef>
#include <optional>
#include <string>

namespace cudnet {

// The number of bytes `text` names: a decimal number ("1024", "1.5"), optionally followed (spaces
// allowed) by a unit, case-insensitive: K, M, G, T or their KB/KiB, MB/MiB, GB/GiB, TB/TiB forms, all
// powers of 1024 (memory sizes, as the CUDA tools count them). A bare number counts in `bareUnit`
// bytes. Surrounding spaces are ignored; the result is rounded down to whole bytes. Anything else —
// a sign, an exponent, an unknown unit, a value past 2^63 — gives nullopt.
std::optional<size_t> parseByteSize(const std::string& text, size_t bareUnit);

}  // namespace cudnet
