// File: ids.h
// Strongly typed dense integer ids. The twin and the scheduler index vectors
// with them, so they are small and contiguous from 0; a Tag keeps a SiteId
// from being passed where a JobId is wanted.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>

namespace stargate {

template <typename Tag, typename Rep = uint32_t>
class Id {
 public:
  using rep = Rep;
  constexpr Id() = default;
  constexpr explicit Id(Rep v) : v_(v) {}
  static constexpr Id Invalid() { return Id(); }
  constexpr Rep value() const { return v_; }
  constexpr bool valid() const { return v_ != kInvalid; }
  constexpr auto operator<=>(const Id&) const = default;

 private:
  static constexpr Rep kInvalid = std::numeric_limits<Rep>::max();
  Rep v_ = kInvalid;
};

using SiteId = Id<struct SiteTag, uint16_t>;
using PoolId = Id<struct PoolTag, uint16_t>;  // an accelerator pool inside a site
using NodeId = Id<struct NodeTag, uint32_t>;  // dense over all sites
using JobId = Id<struct JobTag, uint32_t>;
using TenantId = Id<struct TenantTag, uint16_t>;

}  // namespace stargate

template <typename Tag, typename Rep>
struct std::hash<stargate::Id<Tag, Rep>> {
  size_t operator()(stargate::Id<Tag, Rep> id) const noexcept { return std::hash<Rep>()(id.value()); }
};
