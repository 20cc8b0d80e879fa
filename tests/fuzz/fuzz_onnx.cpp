// libFuzzer harness: ONNX models through ferx::nn::parse_onnx (from memory), the session's
// compile (validation, passes, shape inference), and, where the graph's inputs are small (at most
// 4,096 elements for a batch of one), one exec::seq run on a fixed input.
#include "fuzz_support.hpp"

#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <vector>

namespace {
/// The shape of a batch of one for a declared input shape (dynamic extents: 1); empty when the
/// input is too large to run here.
ferx::nn::shape_t small_shape(const ferx::nn::value_info& vi) {
    ferx::nn::shape_t s;
    std::int64_t n = 1;
    for (std::size_t i = 0; i < vi.shape.size(); ++i) {
        const std::int64_t d = i == 0 || vi.shape[i] <= 0 ? 1 : vi.shape[i];
        if (d > 4096 || n * d > 4096) return {};
        n *= d;
        s.push_back(d);
    }
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    ferx::nn::graph g;
    if (!fuzz::refuses_cleanly([&] { g = ferx::nn::parse_onnx(bytes, "fuzz.onnx"); }, "fuzz.onnx")) return 0;
    fuzz::refuses_cleanly([&] {
        ferx::nn::session s(g);
        std::vector<ferx::nn::shape_t> shapes;
        for (const auto& in : g.inputs) {
            shapes.push_back(small_shape(in));
            if (shapes.back().empty()) return;
        }
        std::vector<std::vector<float>> buffers;
        std::vector<ferx::nn::tensor_ref> inputs;
        for (const auto& sh : shapes) {
            std::vector<float> b(static_cast<std::size_t>(ferx::nn::element_count(sh)));
            for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 17) / 8.f - 1.f;
            buffers.push_back(std::move(b));
            inputs.push_back({buffers.back().data(), sh});
        }
        (void)s.run(ferx::exec::seq, inputs);
    });
    return 0;
}
