"""Conan's test of the ferx package: builds tests/consumer (ferx's own consumer test program)
against the package with find_package(ferx CONFIG REQUIRED), runs it, and checks what it prints."""
import io
import os

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout


class FerxTestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.user_presets_path = False  # write nothing into the source tree
        tc.generate()
        # Config files for the dependencies that are Conan packages (none where the profile
        # takes them from the system); never one for ferx, which ships its own ferxConfig.cmake.
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        exe = os.path.join(self.cpp.build.bindir, "ferx_consumer")
        output = io.StringIO()
        self.run(exe, env="conanrun", stdout=output)
        self.output.info(output.getvalue().strip())
        expected = f"ferx consumer OK {self.dependencies['ferx'].ref.version}"
        if output.getvalue().strip() != expected:
            raise ConanException(
                f"ferx test_package: expected '{expected}', got '{output.getvalue().strip()}'")
