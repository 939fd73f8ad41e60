// File: geo.h
// Distances between sites and the light-in-fibre latency they imply. Used for
// WAN collective latency (placement_shape.h) and for the scheduler's latency
// scoring. Pure functions; thread-safe.
#pragma once

#include "core/units.h"

namespace stargate::model {

// Mean Earth radius R1 = 6371.0088 km (IUGG; Moritz, "Geodetic Reference
// System 1980", J. Geodesy 2000). The sphere is within ~0.5% of the WGS84
// ellipsoid's geodesic distance for any pair of points.
inline constexpr double kEarthRadiusKm = 6371.0088;

// One-way propagation delay of light in single-mode fibre: the group index of
// silica near 1550 nm is ~1.468 (ITU-T G.652 fibre), so c/n ~ 204,000 km/s,
// i.e. ~4.9 us per km (mapyourtech.com; ../shared/notes/physics-numbers.md
// section 3: "1,000 km ~ 10 ms RTT").
inline constexpr double kFiberMicrosPerKm = 4.9;

// Great-circle distance in km between two points given in decimal degrees
// (north and east positive), by the haversine formula (Sinnott, "Virtues of
// the Haversine", Sky & Telescope 68(2), 1984). Symmetric; 0 for equal points.
double HaversineKm(double lat1, double lon1, double lat2, double lon2);

// One-way propagation latency over `km` of fibre (negative km count as 0).
// Real routes run longer than the great circle; callers that know the route
// factor (typically 1.2-1.5x) multiply `km` first. Excludes switching and
// serialisation delay.
Duration FiberLatency(double km);

// Fibre routes run longer than the great circle (Singla et al., "The
// Internet at the Speed of Light", HotNets 2014, measure substantial path
// inflation); 1.5x is an assumed typical factor for long-haul routes.
inline constexpr double kRouteFactor = 1.5;

// One way over the fibre route between two points `km` apart on the great
// circle (kRouteFactor longer), and the round trip.
inline Duration FiberRouteLatency(double km) { return FiberLatency(km * kRouteFactor); }
inline Duration FiberRoundTrip(double km) { return FiberRouteLatency(km) * 2; }

}  // namespace stargate::model
