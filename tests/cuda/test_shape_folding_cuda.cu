// The cuda backend of ferx::nn::session on graphs with the shape computations exporters emit
// (ferx/nn/shape_ops.hpp): PyTorch's Shape -> Gather -> Unsqueeze -> Concat -> Reshape flatten,
// a Reshape with the traced batch hard-coded, Unsqueeze / Squeeze aliases. One session runs
// several batch sizes; each output equals seq's within 1e-4. Needs a GPU: skipped, with a message,
// where no CUDA device is present.
#include <ferx/nn/builder.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "../nn/nn_test.hpp"
#include "cuda_test.hpp"

#include <random>
#include <string>
#include <vector>

namespace {

using namespace nn_test;
using ferx::nn::graph_builder;

/// x [1 declared, 3, 8, 8] -> Conv 3x3 (4 channels) -> Relu -> a flatten head -> Gemm (5).
ferx::nn::graph head_graph(std::mt19937& rng, bool pytorch_flatten) {
    graph_builder gb(pytorch_flatten ? "pytorch_flatten" : "hardcoded_batch");
    gb.input("x", {1, 3, 8, 8})
        .initializer("w", random_tensor({4, 3, 3, 3}, rng))
        .initializer("fc", random_tensor({5, 4 * 8 * 8}, rng))
        .node("Conv", {"x", "w"}, {"c"}, {{"pads", ints{1, 1, 1, 1}}})
        .node("Relu", {"c"}, {"r"})
        .initializer("axes", {{1}, {1.f}})
        .node("Unsqueeze", {"r", "axes"}, {"u"})
        .node("Squeeze", {"u", "axes"}, {"q"});
    if (pytorch_flatten) {
        gb.initializer("zero", {{}, {0.f}})
            .initializer("axes0", {{1}, {0.f}})
            .initializer("rest", {{1}, {-1.f}})
            .node("Shape", {"q"}, {"s"})
            .node("Gather", {"s", "zero"}, {"n"}, {{"axis", std::int64_t{0}}})
            .node("Unsqueeze", {"n", "axes0"}, {"n1"})
            .node("Concat", {"n1", "rest"}, {"t"}, {{"axis", std::int64_t{0}}});
    } else {
        gb.initializer("t", {{2}, {1.f, -1.f}});
    }
    return gb.node("Reshape", {"q", "t"}, {"f"}).node("Gemm", {"f", "fc"}, {"y"}, {{"transB", std::int64_t{1}}}).output("y").build();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nn_shape_folding_cuda)

BOOST_AUTO_TEST_CASE(flatten_heads_equal_seq_at_every_batch_size, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(9);
    for (bool pytorch : {true, false}) {
        const auto g = head_graph(rng, pytorch);
        ferx::nn::session on_seq(g), on_cuda(g);
        ferx::cuda::stream stream;
        for (std::int64_t batch : {1, 3, 1, 6}) {
            const auto x = random_tensor({batch, 3, 8, 8}, rng);
            const auto want = on_seq.run(ferx::exec::seq, {{x.data.data(), x.shape}});
            const auto got = on_cuda.run(stream.policy(), {{x.data.data(), x.shape}});
            const dense_tensor w{want[0].shape, std::vector<float>(want[0].data, want[0].data + want[0].element_count())};
            const dense_tensor c{got[0].shape, std::vector<float>(got[0].data, got[0].data + got[0].element_count())};
            BOOST_TEST((w.shape == shape_t{batch, 5}));
            check_close(c, w, 1e-4, g.name + " at batch " + std::to_string(batch) + " (cuda vs seq)");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
