// BackoffOptions: how a retry loop waits (internal/backoff.h runs it). Public
// because PgOptions carries one.
#ifndef TRADESTORE_BACKOFF_OPTIONS_H_
#define TRADESTORE_BACKOFF_OPTIONS_H_

#include <chrono>

namespace tradestore {

struct BackoffOptions {
  // First delay; each next one doubles, up to `max_delay`.
  std::chrono::milliseconds initial_delay{50};
  std::chrono::milliseconds max_delay{2000};
  // Give up once this much time has passed since the first attempt.
  std::chrono::milliseconds deadline{30000};
};

}  // namespace tradestore

#endif  // TRADESTORE_BACKOFF_OPTIONS_H_
