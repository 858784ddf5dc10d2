// TradeStoreWrapper: forwards every call to another TradeStore. Subclass it
// to change one call: tests use it to fail the Nth write, slow a call down or
// drop a connection, the way LevelDB tests wrap Env with EnvWrapper.
//
// Thread-safety: as the wrapped store.
#ifndef TRADESTORE_TRADE_STORE_WRAPPER_H_
#define TRADESTORE_TRADE_STORE_WRAPPER_H_

#include "tradestore/trade_store.h"

namespace tradestore {

class TradeStoreWrapper : public TradeStore {
 public:
  // `target` must outlive the wrapper.
  explicit TradeStoreWrapper(TradeStore* target) : target_(target) {}

  absl::StatusOr<InsertResult> Insert(const Trade& trade) override {
    return target_->Insert(trade);
  }
  using TradeStore::UpdateStatus;
  absl::StatusOr<Trade> UpdateStatus(
      int64_t id, TradeStatus status,
      std::optional<int64_t> expected_version) override {
    return target_->UpdateStatus(id, status, expected_version);
  }
  absl::StatusOr<Trade> Get(int64_t id) override { return target_->Get(id); }
  absl::StatusOr<Trade> GetByClientOrderId(absl::string_view key) override {
    return target_->GetByClientOrderId(key);
  }
  absl::StatusOr<std::vector<Trade>> QueryBySymbol(
      const SymbolQuery& query) override {
    return target_->QueryBySymbol(query);
  }
  absl::StatusOr<int64_t> Count() override { return target_->Count(); }
  absl::StatusOr<std::vector<Trade>> ScanById(int64_t after_id,
                                              int limit) override {
    return target_->ScanById(after_id, limit);
  }

  TradeStore* target() const { return target_; }

 private:
  TradeStore* const target_;
};

}  // namespace tradestore

#endif  // TRADESTORE_TRADE_STORE_WRAPPER_H_
