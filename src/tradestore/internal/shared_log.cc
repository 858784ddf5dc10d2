#include "tradestore/internal/shared_log.h"

namespace tradestore::internal {

// Holds a writer's text until a line ends or the writer flushes.
class SharedLog::Buf : public std::streambuf {
 public:
  explicit Buf(SharedLog* log) : log_(log) {}
  ~Buf() override { sync(); }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    pending_ += static_cast<char>(c);
    if (c == '\n') sync();
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    pending_.append(s, static_cast<size_t>(n));
    if (pending_.find('\n') != std::string::npos) sync();
    return n;
  }
  int sync() override {
    if (!pending_.empty()) {
      log_->Write(pending_);
      pending_.clear();
    }
    return 0;
  }

 private:
  SharedLog* const log_;
  std::string pending_;
};

namespace {

// Owns its buffer: the stream and the buffer end together.
class Writer : public std::ostream {
 public:
  explicit Writer(std::unique_ptr<std::streambuf> buf)
      : std::ostream(buf.get()), buf_(std::move(buf)) {}
  ~Writer() override { flush(); }

 private:
  std::unique_ptr<std::streambuf> buf_;
};

}  // namespace

std::unique_ptr<std::ostream> SharedLog::NewWriter() {
  return std::make_unique<Writer>(std::make_unique<Buf>(this));
}

void SharedLog::Write(const std::string& text) {
  ScopedLock lock(mu_);
  target_ << text << std::flush;
}

}  // namespace tradestore::internal
