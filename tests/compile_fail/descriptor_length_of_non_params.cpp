// expect: not the parameters of a ferx descriptor
#include <ferx/features/descriptor.hpp>
int main() { return static_cast<int>(ferx::descriptor_length(42, 48, 48)); }
