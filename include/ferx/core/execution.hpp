/// \file ferx/core/execution.hpp
/// Execution policies: the one dispatch mechanism of ferx. Every algorithm takes a policy first:
///
///     ferx::integral(ferx::exec::seq, img);                 // reference, one thread
///     ferx::integral(ferx::exec::par, img);                 // all cores (default pool)
///     ferx::integral(ferx::exec::par.on(pool), img);        // a pool of the user's size
///     ferx::integral(ferx::exec::cuda.on(stream), d_img);   // device views, in a .cu file
///
/// This header never includes CUDA headers: `cuda_policy` only carries the stream handle, whose
/// type (`CUstream_st*`, i.e. `cudaStream_t`) is opaque here.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/thread_pool.hpp>

#include <type_traits>

struct CUstream_st;  // cudaStream_t is `CUstream_st*`

FERX_NAMESPACE_BEGIN

namespace exec {

/// Single-threaded reference execution; every other backend is tested against it.
struct sequenced_policy {};

/// Multi-threaded execution on a `ferx::thread_pool` (the default pool unless `.on(pool)`).
class parallel_policy {
public:
    constexpr parallel_policy() = default;
    /// The same policy, running on `pool` (which must outlive the calls that use it).
    constexpr parallel_policy on(thread_pool& pool) const { return parallel_policy(&pool); }
    thread_pool& pool() const { return pool_ ? *pool_ : thread_pool::default_pool(); }

private:
    constexpr explicit parallel_policy(thread_pool* pool) : pool_(pool) {}
    thread_pool* pool_ = nullptr;
};

/// CUDA execution on a stream (the legacy default stream unless `.on(stream)`). Algorithms
/// given this policy take device views; they are defined in translation units compiled by nvcc.
/// Work is enqueued on the stream; results are ready after synchronising it (the convenience
/// functions that return host data synchronise for you).
class cuda_policy {
public:
    constexpr cuda_policy() = default;
    constexpr cuda_policy on(CUstream_st* stream) const { return cuda_policy(stream); }
    constexpr CUstream_st* stream() const { return stream_; }

private:
    constexpr explicit cuda_policy(CUstream_st* stream) : stream_(stream) {}
    CUstream_st* stream_ = nullptr;
};

inline constexpr sequenced_policy seq{};
inline constexpr parallel_policy par{};
inline constexpr cuda_policy cuda{};

}  // namespace exec

/// Policy traits, for `static_assert`s and `if constexpr` dispatch.
template <class P>
struct is_execution_policy
    : std::bool_constant<std::is_same<P, exec::sequenced_policy>::value ||
                         std::is_same<P, exec::parallel_policy>::value ||
                         std::is_same<P, exec::cuda_policy>::value> {};
template <class P>
inline constexpr bool is_execution_policy_v = is_execution_policy<std::decay_t<P>>::value;

/// Policies that run on the CPU over host memory.
template <class P>
inline constexpr bool is_host_policy_v =
    std::is_same<std::decay_t<P>, exec::sequenced_policy>::value ||
    std::is_same<std::decay_t<P>, exec::parallel_policy>::value;

/// Policies that run on a CUDA device over device memory.
template <class P>
inline constexpr bool is_cuda_policy_v = std::is_same<std::decay_t<P>, exec::cuda_policy>::value;

/// Which backend a policy selects, for logs and results that say where they came from.
enum class backend { seq, par, cuda };

template <class P>
constexpr backend backend_of(const P&) {
    static_assert(is_execution_policy_v<P>, "ferx::backend_of: not a ferx execution policy");
    if (is_cuda_policy_v<P>) return backend::cuda;
    if (std::is_same<std::decay_t<P>, exec::parallel_policy>::value) return backend::par;
    return backend::seq;
}

inline constexpr const char* to_string(backend b) {
    return b == backend::seq ? "seq" : b == backend::par ? "par" : "cuda";
}

namespace detail {
template <class...>
inline constexpr bool always_false = false;

/// Runs body(lo, hi) over [0, n): inline under `seq`, split over the pool under `par`.
template <class Policy, class F>
void for_each_range(const Policy& policy, std::ptrdiff_t n, std::ptrdiff_t grain, F&& body) {
    static_assert(is_host_policy_v<Policy>, "ferx: host loop needs exec::seq or exec::par");
    if constexpr (std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value)
        policy.pool().parallel_for(0, n, grain, body);
    else if (n > 0)
        body(std::ptrdiff_t{0}, n);
}

/// Number of threads a host policy runs on.
template <class Policy>
std::size_t concurrency(const Policy& policy) {
    if constexpr (std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value)
        return policy.pool().size();
    else
        return 1;
}
}  // namespace detail

FERX_NAMESPACE_END
