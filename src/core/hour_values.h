// File: hour_values.h
// A run of hourly values that copies share instead of duplicating. A twin
// run's result keeps each site's grid carbon and price for every hour; at
// a year of 10,000 sites those are 1.4 GB, and they are the very values the
// inputs already hold, so the result shares them. Immutable once built:
// build a std::vector and hand it over.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace stargate {

class HourValues {
 public:
  HourValues() = default;
  HourValues(std::vector<double> v)  // NOLINT(google-explicit-constructor): a vector is one
      : v_(v.empty() ? nullptr : std::make_shared<const std::vector<double>>(std::move(v))),
        data_(v_ ? v_->data() : nullptr),
        size_(v_ ? v_->size() : 0) {}
  HourValues(std::initializer_list<double> v) : HourValues(std::vector<double>(v)) {}
  HourValues(const HourValues&) = default;
  HourValues& operator=(const HourValues&) = default;
  // A moved-from one is empty (the pointers beside the store go with it).
  HourValues(HourValues&& o) noexcept
      : v_(std::move(o.v_)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  HourValues& operator=(HourValues&& o) noexcept {
    v_ = std::move(o.v_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Within size(), as a vector's operator[].
  double operator[](size_t i) const { return data_[i]; }
  const double* begin() const { return data_; }
  const double* end() const { return data_ + size_; }
  double back() const { return data_[size_ - 1]; }
  std::span<const double> span() const { return {begin(), size()}; }
  operator std::span<const double>() const { return span(); }  // NOLINT(google-explicit-constructor)
  // A copy to change (a what-if's spike); the shared values stay as they are.
  std::vector<double> ToVector() const { return {begin(), end()}; }
  // True when both share one store (the result holds the inputs' values).
  bool SharesWith(const HourValues& o) const { return v_ != nullptr && v_ == o.v_; }

  friend bool operator==(const HourValues& a, const HourValues& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const HourValues& a, const std::vector<double>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::shared_ptr<const std::vector<double>> v_;  // null when empty
  // v_'s, kept beside it: the grid push reads a value per site-hour, and
  // this spares it a load through the shared store.
  const double* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace stargate
