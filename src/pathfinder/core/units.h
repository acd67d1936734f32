// Physical quantities as types: Bytes, Seconds, Flops, FlopsPerSec, BytesPerSec, Watts,
// Joules, Hertz, SquareMillimeters, Dollars and their quotients.
//
// A Quantity carries its dimension as integer exponents of six base dimensions
// (FLOP, byte, second, joule, mm², dollar), so `Bytes / BytesPerSec` is `Seconds` and
// `Bytes + Seconds` does not compile (tests/compile_fail proves it). Values are stored
// in base units (B, s, FLOP, J, mm², $) as double. Decimal prefixes throughout
// (1 TB/s = 1e12 B/s); binary prefixes only where written (GiB) in ParseQuantity.
//
// How to add a unit: add its dimension alias below, a symbol in units.cc's table for
// printing, and its spellings in the parse table in units.cc.
#pragma once

#include <cmath>
#include <compare>
#include <string>
#include <string_view>

namespace pf {

template <int F, int B, int S, int J, int A, int D>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double base_value) : v_(base_value) {}

  // The value in base units (FLOP, B, s, J, mm², $ and their combinations).
  constexpr double value() const { return v_; }

  constexpr Quantity operator+(Quantity o) const { return Quantity(v_ + o.v_); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(v_ - o.v_); }
  constexpr Quantity operator-() const { return Quantity(-v_); }
  constexpr Quantity& operator+=(Quantity o) { v_ += o.v_; return *this; }
  constexpr Quantity& operator-=(Quantity o) { v_ -= o.v_; return *this; }
  constexpr Quantity operator*(double s) const { return Quantity(v_ * s); }
  constexpr Quantity operator/(double s) const { return Quantity(v_ / s); }
  constexpr Quantity& operator*=(double s) { v_ *= s; return *this; }
  constexpr Quantity& operator/=(double s) { v_ /= s; return *this; }
  friend constexpr Quantity operator*(double s, Quantity q) { return Quantity(s * q.v_); }
  constexpr auto operator<=>(const Quantity&) const = default;

 private:
  double v_ = 0.0;
};

// Products and quotients combine dimensions; a dimensionless result is a plain double.
namespace detail {
template <int F, int B, int S, int J, int A, int D>
constexpr auto Make(double v) {
  if constexpr (F == 0 && B == 0 && S == 0 && J == 0 && A == 0 && D == 0) {
    return v;
  } else {
    return Quantity<F, B, S, J, A, D>(v);
  }
}
}  // namespace detail

template <int F1, int B1, int S1, int J1, int A1, int D1, int F2, int B2, int S2, int J2, int A2, int D2>
constexpr auto operator*(Quantity<F1, B1, S1, J1, A1, D1> a, Quantity<F2, B2, S2, J2, A2, D2> b) {
  return detail::Make<F1 + F2, B1 + B2, S1 + S2, J1 + J2, A1 + A2, D1 + D2>(a.value() * b.value());
}
template <int F1, int B1, int S1, int J1, int A1, int D1, int F2, int B2, int S2, int J2, int A2, int D2>
constexpr auto operator/(Quantity<F1, B1, S1, J1, A1, D1> a, Quantity<F2, B2, S2, J2, A2, D2> b) {
  return detail::Make<F1 - F2, B1 - B2, S1 - S2, J1 - J2, A1 - A2, D1 - D2>(a.value() / b.value());
}
template <int F, int B, int S, int J, int A, int D>
constexpr auto operator/(double s, Quantity<F, B, S, J, A, D> q) {
  return Quantity<-F, -B, -S, -J, -A, -D>(s / q.value());
}

using Flops = Quantity<1, 0, 0, 0, 0, 0>;
using Bytes = Quantity<0, 1, 0, 0, 0, 0>;
using Seconds = Quantity<0, 0, 1, 0, 0, 0>;
using Joules = Quantity<0, 0, 0, 1, 0, 0>;
using SquareMillimeters = Quantity<0, 0, 0, 0, 1, 0>;
using Dollars = Quantity<0, 0, 0, 0, 0, 1>;
using FlopsPerSec = Quantity<1, 0, -1, 0, 0, 0>;
using BytesPerSec = Quantity<0, 1, -1, 0, 0, 0>;
using Watts = Quantity<0, 0, -1, 1, 0, 0>;
using Hertz = Quantity<0, 0, -1, 0, 0, 0>;
using JoulesPerByte = Quantity<0, -1, 0, 1, 0, 0>;
using JoulesPerFlop = Quantity<-1, 0, 0, 1, 0, 0>;
using DollarsPerSquareMm = Quantity<0, 0, 0, 0, -1, 1>;
using DollarsPerByte = Quantity<0, -1, 0, 0, 0, 1>;
using DollarsPerJoule = Quantity<0, 0, 0, -1, 0, 1>;

template <class Q>
constexpr Q Max(Q a, Q b) { return a < b ? b : a; }
template <class Q>
constexpr Q Min(Q a, Q b) { return b < a ? b : a; }

namespace literals {
// Decimal prefixes (SI). Binary prefixes as _KiB.._TiB.
constexpr Bytes operator""_B(long double v) { return Bytes(double(v)); }
constexpr Bytes operator""_B(unsigned long long v) { return Bytes(double(v)); }
constexpr Bytes operator""_KB(long double v) { return Bytes(double(v) * 1e3); }
constexpr Bytes operator""_KB(unsigned long long v) { return Bytes(double(v) * 1e3); }
constexpr Bytes operator""_MB(long double v) { return Bytes(double(v) * 1e6); }
constexpr Bytes operator""_MB(unsigned long long v) { return Bytes(double(v) * 1e6); }
constexpr Bytes operator""_GB(long double v) { return Bytes(double(v) * 1e9); }
constexpr Bytes operator""_GB(unsigned long long v) { return Bytes(double(v) * 1e9); }
constexpr Bytes operator""_TB(long double v) { return Bytes(double(v) * 1e12); }
constexpr Bytes operator""_TB(unsigned long long v) { return Bytes(double(v) * 1e12); }
constexpr Bytes operator""_KiB(unsigned long long v) { return Bytes(double(v) * 1024.0); }
constexpr Bytes operator""_MiB(unsigned long long v) { return Bytes(double(v) * 1048576.0); }
constexpr Bytes operator""_GiB(unsigned long long v) { return Bytes(double(v) * 1073741824.0); }
constexpr Bytes operator""_GiB(long double v) { return Bytes(double(v) * 1073741824.0); }
constexpr BytesPerSec operator""_GBps(long double v) { return BytesPerSec(double(v) * 1e9); }
constexpr BytesPerSec operator""_GBps(unsigned long long v) { return BytesPerSec(double(v) * 1e9); }
constexpr BytesPerSec operator""_TBps(long double v) { return BytesPerSec(double(v) * 1e12); }
constexpr BytesPerSec operator""_TBps(unsigned long long v) { return BytesPerSec(double(v) * 1e12); }
constexpr BytesPerSec operator""_Gbps(long double v) { return BytesPerSec(double(v) * 1e9 / 8.0); }
constexpr BytesPerSec operator""_Gbps(unsigned long long v) { return BytesPerSec(double(v) * 1e9 / 8.0); }
constexpr Flops operator""_flop(long double v) { return Flops(double(v)); }
constexpr Flops operator""_flop(unsigned long long v) { return Flops(double(v)); }
constexpr FlopsPerSec operator""_TFLOPS(long double v) { return FlopsPerSec(double(v) * 1e12); }
constexpr FlopsPerSec operator""_TFLOPS(unsigned long long v) { return FlopsPerSec(double(v) * 1e12); }
constexpr FlopsPerSec operator""_PFLOPS(long double v) { return FlopsPerSec(double(v) * 1e15); }
constexpr FlopsPerSec operator""_PFLOPS(unsigned long long v) { return FlopsPerSec(double(v) * 1e15); }
constexpr Seconds operator""_s(long double v) { return Seconds(double(v)); }
constexpr Seconds operator""_s(unsigned long long v) { return Seconds(double(v)); }
constexpr Seconds operator""_ms(long double v) { return Seconds(double(v) * 1e-3); }
constexpr Seconds operator""_ms(unsigned long long v) { return Seconds(double(v) * 1e-3); }
constexpr Seconds operator""_us(long double v) { return Seconds(double(v) * 1e-6); }
constexpr Seconds operator""_us(unsigned long long v) { return Seconds(double(v) * 1e-6); }
constexpr Seconds operator""_ns(long double v) { return Seconds(double(v) * 1e-9); }
constexpr Seconds operator""_ns(unsigned long long v) { return Seconds(double(v) * 1e-9); }
constexpr Watts operator""_W(long double v) { return Watts(double(v)); }
constexpr Watts operator""_W(unsigned long long v) { return Watts(double(v)); }
constexpr Watts operator""_kW(long double v) { return Watts(double(v) * 1e3); }
constexpr Watts operator""_kW(unsigned long long v) { return Watts(double(v) * 1e3); }
constexpr Watts operator""_MW(long double v) { return Watts(double(v) * 1e6); }
constexpr Watts operator""_MW(unsigned long long v) { return Watts(double(v) * 1e6); }
constexpr Joules operator""_J(long double v) { return Joules(double(v)); }
constexpr Joules operator""_J(unsigned long long v) { return Joules(double(v)); }
constexpr Joules operator""_pJ(long double v) { return Joules(double(v) * 1e-12); }
constexpr Joules operator""_pJ(unsigned long long v) { return Joules(double(v) * 1e-12); }
constexpr Hertz operator""_GHz(long double v) { return Hertz(double(v) * 1e9); }
constexpr Hertz operator""_GHz(unsigned long long v) { return Hertz(double(v) * 1e9); }
constexpr Hertz operator""_MHz(long double v) { return Hertz(double(v) * 1e6); }
constexpr Hertz operator""_MHz(unsigned long long v) { return Hertz(double(v) * 1e6); }
constexpr SquareMillimeters operator""_mm2(long double v) { return SquareMillimeters(double(v)); }
constexpr SquareMillimeters operator""_mm2(unsigned long long v) { return SquareMillimeters(double(v)); }
constexpr Dollars operator""_usd(long double v) { return Dollars(double(v)); }
constexpr Dollars operator""_usd(unsigned long long v) { return Dollars(double(v)); }
}  // namespace literals

// Printing with a sensible decimal prefix: "3.35 TB/s", "80 GB", "989.4 TFLOP/s", "1.2 ms".
// `digits` is the number of significant digits (trailing zeros dropped).
std::string ToString(Flops q, int digits = 4);
std::string ToString(Bytes q, int digits = 4);
std::string ToString(Seconds q, int digits = 4);
std::string ToString(Joules q, int digits = 4);
std::string ToString(SquareMillimeters q, int digits = 4);
std::string ToString(Dollars q, int digits = 4);
std::string ToString(FlopsPerSec q, int digits = 4);
std::string ToString(BytesPerSec q, int digits = 4);
std::string ToString(Watts q, int digits = 4);
std::string ToString(Hertz q, int digits = 4);
std::string ToString(JoulesPerByte q, int digits = 4);
std::string ToString(JoulesPerFlop q, int digits = 4);
std::string ToString(DollarsPerSquareMm q, int digits = 4);
std::string ToString(DollarsPerByte q, int digits = 4);

// Formats a plain number with `digits` significant digits and no trailing zeros.
std::string FormatNumber(double v, int digits = 4);

}  // namespace pf
