// glibc_compat.cpp — keeps the addon's glibc floor where its own code puts it (2.34) although libstdc++ is
// linked in statically. GCC 12's libstdc++.a implements std::random_device with arc4random, new in glibc
// 2.36, and the linker pulls that object in through the string instantiations even though cudnet never
// uses std::random_device; this hidden definition satisfies the reference inside the addon, so the
// addon does not import glibc 2.36's symbol and loads on Ubuntu 22.04, Debian 12 and RHEL 9.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value = 0;
  ssize_t got = 0;
  do {
    got = getrandom(&value, sizeof(value), 0);
  } while (got < 0 && errno == EINTR);
  return value;
}
