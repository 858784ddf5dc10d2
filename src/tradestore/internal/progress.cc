#include "tradestore/internal/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradestore {

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

namespace {

int StderrColumns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 80;
}

}  // namespace

std::string HoursMinutesSeconds(double seconds) {
  // A stalled rate gives an ETA of centuries (or inf): no overflow.
  if (!(seconds >= 0)) seconds = 0;
  if (seconds > 1e9) seconds = 1e9;
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
}

Progress::Progress(std::ostream& out, std::string what, bool tty, int64_t total,
                   Clock* clock, std::chrono::milliseconds interval,
                   int columns)
    : out_(out),
      what_(std::move(what)),
      tty_(tty),
      columns_(!tty          ? 0
               : columns > 0 ? columns
                             : StderrColumns()),
      total_(total),
      clock_(clock),
      // A terminal redraws often; a log gets a line now and then.
      interval_(tty ? std::chrono::milliseconds(200) : interval),
      start_(clock->Monotonic()),
      last_print_(start_) {}

double Progress::rate(int64_t done) const {
  const double seconds =
      std::chrono::duration<double>(clock_->Monotonic() - start_).count();
  return seconds > 0 ? done / seconds : 0;
}

std::string Progress::Line(int64_t done) const {
  const double per_second = rate(done);
  std::string line = absl::StrFormat("%s: %d", what_, done);
  if (total_ > 0) {
    absl::StrAppendFormat(&line, "/%d %s (%.1f%%)", total_, unit_,
                          100.0 * done / total_);
  } else {
    absl::StrAppend(&line, " ", unit_);
  }
  absl::StrAppendFormat(&line, ", %.0f %s/s", per_second, unit_);
  if (total_ > 0 && per_second > 0 && done < total_) {
    absl::StrAppend(&line, ", ETA ",
                    HoursMinutesSeconds((total_ - done) / per_second));
  }
  // A terminal gets a bar as well, as wide as fits: a line longer than the
  // terminal wraps, and the redraw in place would then garble it.
  if (tty_ && total_ > 0) {
    const int width =
        std::min<int>(24, columns_ - 1 - static_cast<int>(line.size()) - 3);
    if (width >= 8) {
      const int filled = static_cast<int>(std::clamp<double>(
          width * static_cast<double>(done) / total_, 0, width));
      line.insert(what_.size() + 2,
                  absl::StrCat("[", std::string(filled, '#'),
                               std::string(width - filled, '.'), "] "));
    }
  }
  return line;
}

void Progress::Update(int64_t done) {
  const auto now = clock_->Monotonic();
  if (now - last_print_ < interval_) return;
  last_print_ = now;
  if (tty_) {
    out_ << "\r\033[K" << Line(done) << std::flush;
  } else {
    out_ << Line(done) << "\n" << std::flush;
  }
}

void Progress::Finish(int64_t done) {
  if (tty_) out_ << "\r\033[K";
  out_ << Line(done) << "\n" << std::flush;
}

}  // namespace tradestore
