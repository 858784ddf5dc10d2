#include "tradestore/cli/stop_signals.h"

#include <csignal>

namespace tradestore::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop = true; }

}  // namespace

StopSignals::StopSignals()
    : old_int_((g_stop = false, std::signal(SIGINT, OnStopSignal))),
      old_term_(std::signal(SIGTERM, OnStopSignal)) {}

StopSignals::~StopSignals() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

const std::atomic<bool>& StopSignals::flag() const { return g_stop; }

}  // namespace tradestore::cli
