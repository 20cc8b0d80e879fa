// Malformed and unsupported ONNX files: each gives a ferx::error naming the file and what is
// wrong, never a crash or a huge allocation; and a fuzz run over mutated real model bytes.
#include "onnx_test.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fn = ferx::nn;
using onnx_test::expect_error;
using onnx_test::model_builder;

namespace {

/// A valid two-node model to break one piece at a time.
model_builder base_model() {
    model_builder m;
    m.input("x", {1, 4});
    m.output("y", {1, 4});
    m.initializer("c", {4}, {1.f, 2.f, 3.f, 4.f});
    m.node("Add", {"x", "c"}, {"s"}, "add");
    m.node("Relu", {"s"}, {"y"}, "relu");
    return m;
}

fn::graph parse(const model_builder& m) { return fn::parse_onnx(m.bytes(), "bad.onnx"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_malformed)

BOOST_AUTO_TEST_CASE(base_model_is_valid) {
    const auto g = parse(base_model());
    BOOST_TEST(g.nodes.size() == 2u);
}

BOOST_AUTO_TEST_CASE(files_that_are_not_models) {
    expect_error([] { fn::parse_onnx("", "empty.onnx"); }, {"empty.onnx", "empty (0 bytes)"});
    expect_error([] { fn::load_onnx("/nonexistent/model.onnx"); }, {"/nonexistent/model.onnx", "no such file"});
    const auto dir = std::filesystem::temp_directory_path();
    expect_error([&] { fn::load_onnx(dir); }, {dir.string(), "no such file"});
    // An empty file on disk.
    const auto empty = dir / "ferx_onnx_test_empty.onnx";
    std::ofstream(empty, std::ios::binary).close();
    expect_error([&] { fn::load_onnx(empty); }, {empty.string(), "empty"});
    std::filesystem::remove(empty);
    // Text, and random bytes.
    expect_error([] { fn::parse_onnx("hello, this is not a protobuf message\n", "text.onnx"); }, {"text.onnx"});
    std::mt19937 rng(3);
    std::string junk(4096, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    expect_error([&] { fn::parse_onnx(junk, "junk.onnx"); }, {"junk.onnx"});
    // A valid model message without a graph.
    ::onnx::ModelProto no_graph;
    no_graph.set_ir_version(7);
    no_graph.set_producer_name("nothing");
    expect_error([&] { fn::parse_onnx(no_graph.SerializeAsString(), "nograph.onnx"); }, {"nograph.onnx", "no graph"});
    // The limit on file size.
    fn::onnx_options small;
    small.max_file_bytes = 16;
    expect_error([&] { fn::parse_onnx(base_model().bytes(), "big.onnx", small); }, {"big.onnx", "limit"});
}

BOOST_AUTO_TEST_CASE(truncated_model) {
    const std::string bytes = onnx_test::small_cnn().bytes();
    for (std::size_t cut : {std::size_t{1}, std::size_t{10}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1})
        expect_error([&] { fn::parse_onnx(std::string_view(bytes).substr(0, cut), "cut.onnx"); }, {"cut.onnx"});
}

BOOST_AUTO_TEST_CASE(tensor_data_that_contradicts_the_shape) {
    {
        auto m = base_model();
        m.g->mutable_initializer(0)->mutable_raw_data()->pop_back();  // 15 bytes for 4 floats
        expect_error([&] { parse(m); }, {"bad.onnx", "initializer 'c'", "15 bytes", "16"});
    }
    {
        auto m = base_model();
        m.g->mutable_initializer(0)->set_dims(0, 5);
        expect_error([&] { parse(m); }, {"initializer 'c'", "needs 20"});
    }
    {
        auto m = base_model();
        m.g->clear_initializer();
        m.initializer("c", {4}, {1.f, 2.f, 3.f}, false);  // typed: 3 values, 4 elements
        expect_error([&] { parse(m); }, {"initializer 'c'", "3 values in float_data", "4 elements"});
    }
    {
        auto m = base_model();
        m.g->mutable_initializer(0)->set_dims(0, -4);
        expect_error([&] { parse(m); }, {"initializer 'c'", "negative extent (-4)"});
    }
    {
        // Huge extents: refused from the shape alone, before any allocation.
        auto m = base_model();
        auto* t = m.g->mutable_initializer(0);
        t->clear_dims();
        t->add_dims(std::int64_t{1} << 40);
        t->add_dims(std::int64_t{1} << 40);
        expect_error([&] { parse(m); }, {"initializer 'c'", "elements"});
        t->clear_dims();
        t->add_dims(std::int64_t{1} << 30);  // under the element limit, but no data for it
        t->clear_raw_data();
        expect_error([&] { parse(m); }, {"initializer 'c'", "0 values in float_data"});
    }
    {
        auto m = base_model();
        m.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(-2);
        expect_error([&] { parse(m); }, {"input 'x'", "invalid extent -2"});
    }
}

BOOST_AUTO_TEST_CASE(unsupported_data) {
    {
        auto m = base_model();
        auto* t = m.g->mutable_initializer(0);
        t->set_data_location(::onnx::TensorProto::EXTERNAL);
        auto* e = t->add_external_data();
        e->set_key("location");
        e->set_value("weights.bin");
        expect_error([&] { parse(m); }, {"bad.onnx", "initializer 'c'", "external"});
    }
    {
        auto m = base_model();
        m.g->mutable_initializer(0)->set_data_type(::onnx::TensorProto::STRING);
        expect_error([&] { parse(m); }, {"initializer 'c'", "data type 8 (STRING)"});
    }
    {
        auto m = base_model();
        m.g->mutable_initializer(0)->set_data_type(99);
        expect_error([&] { parse(m); }, {"initializer 'c'", "data type 99 (unknown)"});
    }
    {
        auto m = base_model();
        m.g->clear_initializer();
        m.int64_initializer("c", {4}, {1, 2, std::int64_t{1} << 40, 4});
        expect_error([&] { parse(m); }, {"initializer 'c'", "1099511627776", "index 2", "exactly"});
    }
    {
        auto m = base_model();
        m.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::INT64);
        expect_error([&] { parse(m); }, {"input 'x'", "INT64", "float32"});
    }
    {
        auto m = base_model();
        auto* a = m.g->mutable_node(1)->add_attribute();
        a->set_name("body");
        a->set_type(::onnx::AttributeProto::GRAPH);
        a->mutable_g()->set_name("sub");
        expect_error([&] { parse(m); }, {"node 'relu' (op 'Relu')", "attribute 'body'", "GRAPH"});
    }
    {
        auto m = base_model();
        m.g->mutable_node(0)->set_domain("com.microsoft");
        expect_error([&] { parse(m); }, {"node 'add' (op 'Add')", "com.microsoft"});
    }
    {
        auto m = base_model();
        m.model.clear_opset_import();
        expect_error([&] { parse(m); }, {"bad.onnx", "no opset"});
    }
}

BOOST_AUTO_TEST_CASE(graph_structure_errors) {
    {
        auto m = base_model();
        m.g->clear_initializer();  // 'c' is read but nothing provides it
        expect_error([&] { parse(m); }, {"bad.onnx", "node 'add' (op 'Add')", "reads value 'c'", "missing initializer"});
    }
    {
        auto m = base_model();
        m.g->mutable_output(0)->set_name("nowhere");
        expect_error([&] { parse(m); }, {"graph output 'nowhere'"});
    }
    {
        auto m = base_model();
        m.node("Relu", {"x"}, {"s"}, "second_writer");
        expect_error([&] { parse(m); }, {"node 'second_writer' (op 'Relu')", "writes value 's'"});
    }
    {
        auto m = base_model();
        m.initializer("c", {4}, {0.f, 0.f, 0.f, 0.f});
        expect_error([&] { parse(m); }, {"initializer 'c' is given twice"});
    }
    {
        auto m = base_model();
        m.g->mutable_node(0)->set_op_type("");
        expect_error([&] { parse(m); }, {"has no op_type"});
    }
    {
        auto m = base_model();
        m.g->clear_output();
        expect_error([&] { parse(m); }, {"no outputs"});
    }
}

// Mutated model bytes (bit flips, overwritten runs, truncations, insertions, random buffers):
// every one either parses into a consistent graph or gives ferx::error; nothing else escapes.
BOOST_AUTO_TEST_CASE(fuzz_mutated_models) {
    std::vector<std::pair<std::string, int>> seeds = {{onnx_test::small_cnn().bytes(), 12000},
                                                      {base_model().bytes(), 6000}};
    if (std::filesystem::is_regular_file(onnx_test::mini_xception_file()))
        seeds.emplace_back(onnx_test::read_bytes(onnx_test::mini_xception_file()), 1000);
    else
        BOOST_TEST_MESSAGE("shared models absent: fuzzing the built models only");

    std::mt19937 rng(2024);
    int parsed = 0, refused = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& [original, rounds] : seeds) {
        for (int r = 0; r < rounds; ++r) {
            std::string b = original;
            switch (rng() % 5) {
                case 0:  // flip 1..8 bits
                    for (int k = 1 + rng() % 8; k > 0; --k) b[rng() % b.size()] ^= static_cast<char>(1u << (rng() % 8));
                    break;
                case 1: {  // overwrite a run of up to 16 bytes
                    const std::size_t at = rng() % b.size();
                    for (std::size_t k = at; k < std::min(b.size(), at + 1 + rng() % 16); ++k) b[k] = static_cast<char>(rng());
                    break;
                }
                case 2:  // truncate
                    b.resize(rng() % b.size());
                    break;
                case 3: {  // insert random bytes
                    std::string ins(1 + rng() % 12, '\0');
                    for (auto& c : ins) c = static_cast<char>(rng());
                    b.insert(rng() % b.size(), ins);
                    break;
                }
                default:  // a random buffer of the same size class
                    b.assign(1 + rng() % 512, '\0');
                    for (auto& c : b) c = static_cast<char>(rng());
            }
            try {
                const fn::graph g = fn::parse_onnx(b, "fuzz.onnx");
                for (const auto& kv : g.initializers)
                    BOOST_REQUIRE_EQUAL(static_cast<std::int64_t>(kv.second.data.size()), kv.second.element_count());
                ++parsed;
            } catch (const ferx::error& e) {
                BOOST_REQUIRE(e.file() == "fuzz.onnx");
                ++refused;
            }
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_MESSAGE("fuzz: " << parsed << " mutated models parsed, " << refused << " refused with ferx::error, in "
                                << seconds << " s");
    // Both outcomes occur: the mutations reach past the parser into the importer's checks.
    BOOST_TEST(parsed > 0);
    BOOST_TEST(refused > 0);
}

BOOST_AUTO_TEST_SUITE_END()
