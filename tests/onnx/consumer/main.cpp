// Builds a one-node ONNX model with libonnx's messages, serializes it, and reads it back with
// ferx::nn::parse_onnx from an installed ferx: prints "ferx onnx consumer OK" on success.
#include <ferx/nn/onnx.hpp>

#include <exception>
#include <iostream>
#include <string>

int main() {
    try {
        onnx::ModelProto model;
        model.set_ir_version(7);
        auto* opset = model.add_opset_import();
        opset->set_domain("");
        opset->set_version(13);
        auto* g = model.mutable_graph();
        g->set_name("consumer");
        for (const char* io : {"x", "y"}) {
            auto* v = std::string(io) == "x" ? g->add_input() : g->add_output();
            v->set_name(io);
            auto* tt = v->mutable_type()->mutable_tensor_type();
            tt->set_elem_type(onnx::TensorProto::FLOAT);
            tt->mutable_shape()->add_dim()->set_dim_value(3);
        }
        auto* n = g->add_node();
        n->set_op_type("Relu");
        n->add_input("x");
        n->add_output("y");
        std::string bytes;
        model.SerializeToString(&bytes);
        const ferx::nn::graph parsed = ferx::nn::parse_onnx(bytes, "consumer.onnx");
        if (parsed.nodes.size() != 1 || parsed.nodes[0].op_type != "Relu" || parsed.opset_version != 13 ||
            parsed.inputs.size() != 1 || parsed.inputs[0].shape.size() != 1) {
            std::cerr << "ferx onnx consumer FAILED: the graph read back differs\n";
            return 1;
        }
    } catch (const std::exception& e) {
        std::cerr << "ferx onnx consumer FAILED: " << e.what() << '\n';
        return 1;
    }
    std::cout << "ferx onnx consumer OK\n";
    return 0;
}
