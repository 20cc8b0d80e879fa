/// Helpers of the flow tests: where the flow data is, random fields.
#pragma once

#include <ferx/flow/field.hpp>

#include "ferx_test.hpp"

#include <filesystem>
#include <random>

namespace flow_test {

inline std::filesystem::path flow_dir() { return ferx_test::shared_dir() / "data" / "flow"; }

/// A rows x cols field of uniform random vectors in [-range, range]^2 (seeded).
inline ferx::flow_field random_field(int rows, int cols, float range, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-range, range);
    ferx::flow_field f = ferx::make_flow_field(rows, cols);
    for (auto& w : f) w = {d(rng), d(rng)};
    return f;
}

}  // namespace flow_test
