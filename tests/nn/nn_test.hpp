/// Helpers of the nn tests: random tensors, one-op graphs run through a session, comparisons.
#pragma once

#include <ferx/nn/builder.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace nn_test {

using ferx::nn::dense_tensor;
using ferx::nn::shape_t;
using ints = std::vector<std::int64_t>;

/// Calls f(name) once per instruction set the CPU kernels can use here (portable, AVX2,
/// AVX-512, as the CPU allows), limiting the kernels to it; restores the limit after.
template <class F>
void for_each_cpu_isa(F&& f) {
    using ferx::nn::detail::cpu_isa;
    auto& limit = ferx::nn::detail::cpu_isa_limit();
    const cpu_isa saved = limit;
    for (cpu_isa isa : {cpu_isa::portable, cpu_isa::avx2, cpu_isa::avx512}) {
        limit = isa;
        if (isa == cpu_isa::avx2 && !ferx::nn::detail::gemm_has_avx2()) continue;
        if (isa == cpu_isa::avx512 && !ferx::nn::detail::gemm_has_avx512()) continue;
        f(std::string(isa == cpu_isa::portable ? "portable" : isa == cpu_isa::avx2 ? "avx2" : "avx512"));
    }
    limit = saved;
}

/// Uniform values in [lo, hi) of the given shape, from a fixed-seed generator.
inline dense_tensor random_tensor(shape_t shape, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
    dense_tensor t{std::move(shape), {}};
    std::uniform_real_distribution<float> u(lo, hi);
    t.data.resize(static_cast<std::size_t>(t.element_count()));
    for (auto& v : t.data) v = u(rng);
    return t;
}

/// Runs graph `g` on `inputs` under `policy` in a fresh session; returns the first output.
template <class Policy>
dense_tensor run(const Policy& policy, const ferx::nn::graph& g, const std::vector<dense_tensor>& inputs,
                 ferx::nn::session_options options = {}) {
    ferx::nn::session s(g, options);
    std::vector<ferx::nn::tensor_ref> refs;
    for (const auto& t : inputs) refs.push_back({t.data.data(), t.shape});
    const auto out = s.run(policy, refs);
    return {out[0].shape, std::vector<float>(out[0].data, out[0].data + out[0].element_count())};
}

/// max |got - want| <= tol * max(1, max |want|), and equal shapes.
inline void check_close(const dense_tensor& got, const dense_tensor& want, double tol, const std::string& what) {
    BOOST_TEST_REQUIRE((got.shape == want.shape), what << ": shape " << ferx::nn::shape_string(got.shape) << " != "
                                                       << ferx::nn::shape_string(want.shape));
    double diff = 0, scale = 1;
    for (std::size_t i = 0; i < want.data.size(); ++i) {
        diff = std::max(diff, std::abs(double(got.data[i]) - double(want.data[i])));
        scale = std::max(scale, std::abs(double(want.data[i])));
        if (std::isnan(got.data[i]) != std::isnan(want.data[i])) diff = INFINITY;
    }
    BOOST_TEST(diff <= tol * scale, what << ": max |diff| " << diff << " > " << tol * scale);
}

/// Bit-identical tensors (par against seq).
inline void check_identical(const dense_tensor& got, const dense_tensor& want, const std::string& what) {
    BOOST_TEST_REQUIRE((got.shape == want.shape), what << ": shapes differ");
    std::size_t differ = 0;
    for (std::size_t i = 0; i < want.data.size(); ++i) differ += !(got.data[i] == want.data[i]);
    BOOST_TEST(differ == 0u, what << ": " << differ << " of " << want.data.size() << " values differ between par and seq");
}

/// Runs `g` on seq and par: seq within tol of `want`, par bit-identical to seq.
inline void check_op(const ferx::nn::graph& g, const std::vector<dense_tensor>& inputs, const dense_tensor& want,
                     const std::string& what, double tol = 1e-5) {
    const dense_tensor seq = run(ferx::exec::seq, g, inputs);
    check_close(seq, want, tol, what + " (seq vs reference)");
    ferx::thread_pool pool(3);
    check_identical(run(ferx::exec::par.on(pool), g, inputs), seq, what + " (par vs seq)");
}

}  // namespace nn_test
