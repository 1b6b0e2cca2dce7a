// What every user of GMime in sevenport shares: initialising the library exactly once, and owning
// one GObject reference with RAII. Used by the IMAP engine (ENVELOPE, BODYSTRUCTURE) and by the
// HTTP API's message view.
#pragma once

#include <gmime/gmime.h>

#include <mutex>

namespace sevenport::mime {

// Initialises GMime on first use; safe from any thread.
inline void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// Owns one GObject reference.
template <typename T>
struct GRef {
  T* p = nullptr;
  explicit GRef(T* ptr) : p(ptr) {}
  ~GRef() {
    if (p) g_object_unref(p);
  }
  GRef(const GRef&) = delete;
  GRef& operator=(const GRef&) = delete;
};

}  // namespace sevenport::mime
