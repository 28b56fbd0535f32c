/*
 * plugin/absl.cc — the one setting of Abseil (the C++ library under gRPC's
 * core) that the provider makes, which has no C interface.
 *
 * Debian builds Abseil without NDEBUG, so every absl::Mutex gRPC locks
 * runs Abseil's deadlock detector: a debugging aid that records which
 * locks each thread holds in a graph of all locks ever taken, kept in
 * memory of its own (mmap'd arenas) and in per-thread state. That graph
 * was 112 KB of the static provider's private dirty memory at the
 * handshake line, a seventh of the whole (smaps; issue 15), and the
 * detector runs on every lock, for the life of the process. gRPC's own
 * release builds have it off (NDEBUG); so does the provider.
 *
 * Only a function with C linkage: no exceptions, no C++ runtime needed by
 * the C programs that link it.
 */
#include "plugin/absl.h"

#include <absl/synchronization/mutex.h>

extern "C" void cr_absl_configure(void)
{
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}
