// One log written by several threads: each writer gets a stream of its own
// (its own formatting state, which std::ostream keeps per object), and what
// it writes reaches the target whole, a line (or a flushed part of one, as a
// progress line redrawn with '\r') at a time, under one lock. loadgen's
// progress and its store's phase-switch lines share the command's log so.
//
// Thread-safety: each writer stream belongs to one thread; any number of
// them may write at once. The target must outlive every writer.
#ifndef TRADESTORE_INTERNAL_SHARED_LOG_H_
#define TRADESTORE_INTERNAL_SHARED_LOG_H_

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

#include "absl/base/thread_annotations.h"
#include "tradestore/internal/mutex.h"

namespace tradestore::internal {

class SharedLog {
 public:
  explicit SharedLog(std::ostream& target) : target_(target) {}
  SharedLog(const SharedLog&) = delete;
  SharedLog& operator=(const SharedLog&) = delete;

  // A stream for one writer; must not outlive this SharedLog.
  std::unique_ptr<std::ostream> NewWriter();

 private:
  class Buf;
  void Write(const std::string& text);

  Mutex mu_;
  std::ostream& target_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_SHARED_LOG_H_
