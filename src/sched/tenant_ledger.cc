#include "sched/tenant_ledger.h"

#include <algorithm>

namespace stargate::sched {

TenantUsage TenantUsage::Of(AcceleratorType type, double devices) {
  const AcceleratorSpec& s = Spec(type);
  const double n = devices;
  return TenantUsage{n, n * s.hbm.value(), n * s.tdp.value()};
}

TenantUsage& TenantUsage::operator+=(const TenantUsage& o) {
  devices += o.devices;
  memory_bytes += o.memory_bytes;
  power_w += o.power_w;
  return *this;
}

TenantUsage& TenantUsage::operator-=(const TenantUsage& o) {
  // Clamp at zero so float drift never leaves a tenant with negative use.
  devices = std::max(0.0, devices - o.devices);
  memory_bytes = std::max(0.0, memory_bytes - o.memory_bytes);
  power_w = std::max(0.0, power_w - o.power_w);
  return *this;
}

TenantLedger::Entry& TenantLedger::At(TenantId t) {
  const size_t i = Slot(t);
  if (i >= entries_.size()) entries_.resize(i + 1);
  return entries_[i];
}

const TenantLedger::Entry* TenantLedger::Find(TenantId t) const {
  const size_t i = Slot(t);
  return i < entries_.size() ? &entries_[i] : nullptr;
}

void TenantLedger::SetWeight(TenantId t, double weight) { At(t).weight = weight > 0 ? weight : 1.0; }

double TenantLedger::Weight(TenantId t) const {
  const Entry* e = Find(t);
  return e == nullptr ? 1.0 : e->weight;
}

void TenantLedger::Add(TenantId t, const TenantUsage& u) { At(t).usage += u; }

void TenantLedger::Remove(TenantId t, const TenantUsage& u) { At(t).usage -= u; }

void TenantLedger::ClearUsage() {
  for (Entry& e : entries_) e.usage = TenantUsage{};
}

bool TenantLedger::SameUsage(const TenantLedger& o) const {
  const size_t n = std::max(entries_.size(), o.entries_.size());
  for (size_t i = 0; i < n; ++i) {
    const TenantUsage a = i < entries_.size() ? entries_[i].usage : TenantUsage{};
    const TenantUsage b = i < o.entries_.size() ? o.entries_[i].usage : TenantUsage{};
    if (a.devices != b.devices || a.memory_bytes != b.memory_bytes || a.power_w != b.power_w) return false;
  }
  return true;
}

TenantUsage TenantLedger::Usage(TenantId t) const {
  const Entry* e = Find(t);
  return e == nullptr ? TenantUsage{} : e->usage;
}

double TenantLedger::DominantShare(TenantId t, const TenantUsage& extra) const {
  const Entry* e = Find(t);
  TenantUsage u = e == nullptr ? TenantUsage{} : e->usage;
  u += extra;
  auto frac = [](double used, double total) { return total > 0 ? used / total : 0.0; };
  const double share = std::max(
      {frac(u.devices, total_.devices), frac(u.memory_bytes, total_.memory_bytes), frac(u.power_w, total_.power_w)});
  return share / (e == nullptr ? 1.0 : e->weight);
}

}  // namespace stargate::sched
