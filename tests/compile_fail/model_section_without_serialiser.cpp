// expect: M has no write_section; include the header that defines M
// A type with no section writer cannot be added to a model file: the format core
// (ferx/learn/model_io.hpp) names the missing serialiser instead of failing deep in a template.
#include <ferx/learn/model_io.hpp>
struct not_a_model {};
int main() {
    ferx::model_writer w;
    w.add(not_a_model{});
    return 0;
}
