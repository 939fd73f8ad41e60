// File: tenant_ledger.h
// What each tenant holds, for weighted fair share (Dominant Resource
// Fairness, Ghodsi et al., NSDI 2011): a tenant's dominant share is the
// largest of its fractions of the network's accelerators, accelerator
// memory and accelerator power, divided by its weight. A scheduling pass
// serves the tenant with the smallest dominant share first, so a tenant of
// weight 2 settles at twice the share of a tenant of weight 1, and a tenant
// that asks for little gets what it asks for.
//
// Memory and power make the shares differ on mixed fleets: eight H200s hold
// 1.76x the memory of eight H100s, a GB200 draws 1.7x an H100.
#pragma once

#include <cstdint>
#include <vector>

#include "core/accelerator.h"
#include "core/ids.h"

namespace stargate::sched {

// Resources a gang holds, in the units DRF compares.
struct TenantUsage {
  double devices = 0;
  double memory_bytes = 0;
  double power_w = 0;  // board power limit (TDP) of the devices

  static TenantUsage Of(AcceleratorType type, double devices);  // devices may be a share of one
  TenantUsage& operator+=(const TenantUsage& o);
  TenantUsage& operator-=(const TenantUsage& o);
};

class TenantLedger {
 public:
  // The network's capacity: the denominators of every share.
  void SetCapacity(const TenantUsage& total) { total_ = total; }
  // Default 1; non-positive weights read as 1.
  void SetWeight(TenantId t, double weight);
  double Weight(TenantId t) const;

  void Add(TenantId t, const TenantUsage& u);
  void Remove(TenantId t, const TenantUsage& u);
  TenantUsage Usage(TenantId t) const;
  // Every tenant's usage back to none (weights and capacity stay), for a
  // driver that counts it again from its running gangs in one order.
  void ClearUsage();
  // Whether every tenant's usage is the same, to the bit.
  bool SameUsage(const TenantLedger& o) const;

  // max over resources of (usage + extra) / capacity, divided by the weight.
  // An invalid id (no tenant) is one anonymous tenant.
  double DominantShare(TenantId t, const TenantUsage& extra = {}) const;

 private:
  struct Entry {
    double weight = 1.0;
    TenantUsage usage;
  };
  Entry& At(TenantId t);
  const Entry* Find(TenantId t) const;
  static size_t Slot(TenantId t) { return t.valid() ? t.value() + 1u : 0u; }

  TenantUsage total_;
  std::vector<Entry> entries_;  // [0] = no tenant, [i + 1] = tenant i
};

}  // namespace stargate::sched
