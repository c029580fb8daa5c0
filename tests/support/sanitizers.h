#pragma once
// Whether this test binary was built with AddressSanitizer
// (TRACELOOP_SANITIZE): its shadow memory and quarantine change what a
// process's memory figures mean, so a test measuring them skips (and says why).

namespace traceloop::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace traceloop::testing
