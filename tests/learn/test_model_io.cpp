// Model files (the format core, ferx/learn/model_io.hpp, with the serialisers beside each model):
// exact round trips of every model and preprocessor, several sections in one file, and every
// kind of bad file (missing, truncated, corrupted, other version, other kernel, other value type,
// other section) giving a ferx::error that names the file.
#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"
#include "learn_test.hpp"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace {

std::string read_text(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}
void write_text(const std::string& p, const std::string& t) { std::ofstream(p, std::ios::binary) << t; }

template <class M>
void expect_error_naming(const std::string& path, const std::string& needle) {
    try {
        ferx::load_model<M>(path);
        BOOST_ERROR("no error for " << needle);
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == path);
        BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_io)

BOOST_AUTO_TEST_CASE(round_trips_are_exact) {
    ferx_test::temp_dir dir("ferx_learn_io");
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(3, 30, 5, 1.5, 2, x, y, true);
    {
        ferx::svc_params prm;
        prm.C = 3;
        const auto m = ferx::fit_svc(ferx::exec::seq, ferx::poly_kernel{0.3, 0.5, 2}, x, y, prm);
        ferx::save_model(dir.file("poly.ferx"), m);
        const auto back = ferx::load_model<ferx::svc_model<ferx::poly_kernel, float>>(dir.file("poly.ferx"));
        BOOST_TEST(back.kernel.gamma == 0.3);
        BOOST_TEST(back.kernel.degree == 2);
        BOOST_TEST(back.support_vectors == m.support_vectors);
        BOOST_TEST(back.coef == m.coef);
        BOOST_TEST(back.rho == m.rho, boost::test_tools::per_element());
        BOOST_TEST(back.support_index == m.support_index, boost::test_tools::per_element());
        BOOST_TEST(ferx::decision_function(ferx::exec::seq, back, x) == ferx::decision_function(ferx::exec::seq, m, x));
    }
    {
        const auto m = ferx::fit_svc(ferx::exec::seq, ferx::chi2_kernel{0.5}, x, y);
        ferx::save_model(dir.file("chi2.ferx"), m);
        const auto back = ferx::load_model<ferx::svc_model<ferx::chi2_kernel, float>>(dir.file("chi2.ferx"));
        BOOST_TEST(ferx::decision_function(ferx::exec::seq, back, x) == ferx::decision_function(ferx::exec::seq, m, x));
    }
    {
        ferx::linear_svm_params prm;
        prm.strategy = ferx::multiclass::one_vs_one;
        const auto m = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
        ferx::save_model(dir.file("lin.ferx"), m);
        const auto back = ferx::load_model<ferx::linear_svm_model>(dir.file("lin.ferx"));
        BOOST_TEST(back.w == m.w);
        BOOST_TEST(back.bias == m.bias);
        BOOST_TEST((back.strategy == ferx::multiclass::one_vs_one));
    }
    // A pipeline in one file: scaler, PCA, min-max, SVM.
    const auto sc = ferx::fit_standard_scaler(x);
    const auto pc = ferx::fit_pca(x, 3, true);
    const auto mm = ferx::fit_minmax_scaler(x, -1, 1);
    const auto svm = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.2}, x, y);
    ferx::model_writer w;
    w.add(sc);
    w.add(pc);
    w.add(mm);
    w.add(svm);
    w.save(dir.file("pipe.ferx"));
    ferx::model_reader r(dir.file("pipe.ferx"));
    const auto sc2 = r.read<ferx::standard_scaler>();
    const auto pc2 = r.read<ferx::pca_model>();
    const auto mm2 = r.read<ferx::minmax_scaler>();
    const auto svm2 = r.read<ferx::svc_model<ferx::rbf_kernel, float>>();
    BOOST_TEST(r.done());
    BOOST_TEST(sc2.mean == sc.mean, boost::test_tools::per_element());
    BOOST_TEST(sc2.scale == sc.scale, boost::test_tools::per_element());
    BOOST_TEST(pc2.components == pc.components);
    BOOST_TEST(pc2.whiten);
    BOOST_TEST(mm2.min == mm.min, boost::test_tools::per_element());
    BOOST_TEST(mm2.lo == -1.0);
    BOOST_TEST(svm2.coef == svm.coef);
}

BOOST_AUTO_TEST_CASE(bad_files) {
    ferx_test::temp_dir dir("ferx_learn_io");
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(2, 20, 3, 2.0, 8, x, y);
    const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.5}, x, y);
    using rbf_model = ferx::svc_model<ferx::rbf_kernel, float>;
    const std::string good = dir.file("good.ferx");
    ferx::save_model(good, m);
    const std::string text = read_text(good);

    expect_error_naming<rbf_model>(dir.file("absent.ferx"), "cannot open");
    const std::string cut = dir.file("cut.ferx");
    write_text(cut, text.substr(0, text.size() / 2));
    expect_error_naming<rbf_model>(cut, "truncated");
    write_text(cut, "");
    expect_error_naming<rbf_model>(cut, "truncated");
    // One digit changed in the middle: the checksum catches it.
    std::string bad = text;
    const std::size_t pos = bad.find_first_of("123456789", bad.size() / 2);
    bad[pos] = bad[pos] == '1' ? '2' : '1';
    const std::string corrupt = dir.file("corrupt.ferx");
    write_text(corrupt, bad);
    expect_error_naming<rbf_model>(corrupt, "checksum");
    // Another kernel, another value type, another kind of section.
    expect_error_naming<ferx::svc_model<ferx::chi2_kernel, float>>(good, "'rbf' kernel");
    expect_error_naming<ferx::svc_model<ferx::rbf_kernel, double>>(good, "value type");
    expect_error_naming<ferx::linear_svm_model>(good, "expected a 'linear_svm' section");
    // A future version (with a valid checksum) is refused.
    std::string body = text.substr(0, text.rfind("end "));
    body.replace(0, body.find('\n'), "ferx-model 2");
    std::ostringstream sum;
    sum << std::hex << std::setw(16) << std::setfill('0') << ferx::detail::fnv1a(body);
    const std::string future = dir.file("future.ferx");
    write_text(future, body + "end " + sum.str() + "\n");
    expect_error_naming<rbf_model>(future, "format version 2");
    // A structurally broken body with a valid checksum: bad number.
    std::string broken = text.substr(0, text.rfind("end "));
    broken.replace(broken.find("rho 1 ") + 6, 1, "x");
    std::ostringstream sum2;
    sum2 << std::hex << std::setw(16) << std::setfill('0') << ferx::detail::fnv1a(broken);
    write_text(future, broken + "end " + sum2.str() + "\n");
    expect_error_naming<rbf_model>(future, "bad number");
    BOOST_CHECK_THROW(ferx::model_writer().save((dir.path / "no" / "such" / "dir.ferx").string()), ferx::error);
}

// The model a user had survives a save that fails part-way: a real write error (the file-size
// limit of a child process, as a full disk) while a bigger model is saved over it leaves the old
// file byte-identical, loadable, and alone in its folder.
BOOST_AUTO_TEST_CASE(a_failed_save_leaves_the_old_model) {
    ferx_test::temp_dir dir("ferx_learn_io");
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(3, 30, 5, 1.5, 2, x, y, true);
    const std::string path = dir.file("my.ferx");
    ferx::save_model(path, ferx::fit_linear_svm(ferx::exec::seq, x, y, ferx::linear_svm_params{}));
    const std::string old = ferx_test::file_bytes(path);
    BOOST_REQUIRE(old.size() > 200);
    learn_test::blobs<float>(3, 400, 40, 1.5, 3, x, y, true);
    const auto bigger = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.05}, x, y, ferx::svc_params{});
    const std::string said = ferx_test::run_with_file_size_limit(old.size() + 100, [&] { ferx::save_model(path, bigger); });
    BOOST_TEST_INFO(said);
    BOOST_TEST(said.rfind("ferx::error: ferx::model_writer::save: cannot write the file (File too large)", 0) == 0);
    BOOST_TEST(said.find("[file: " + path + "]") != std::string::npos);
    BOOST_TEST(ferx_test::file_bytes(path) == old);
    BOOST_TEST(ferx_test::folder_names(dir.path) == std::vector<std::string>{"my.ferx"});
    BOOST_CHECK_NO_THROW(ferx::load_model<ferx::linear_svm_model>(path));
    // Without the limit the same save goes through and replaces it.
    ferx::save_model(path, bigger);
    BOOST_TEST(ferx_test::file_bytes(path) != old);
}

namespace {
/// `body` as a model file with the right checksum (as tests/fuzz/fuzz_model.cpp writes its inputs).
std::string with_checksum(const std::string& body) {
    std::ostringstream sum;
    sum << std::hex << std::setw(16) << std::setfill('0') << ferx::detail::fnv1a(body);
    return body + "end " + sum.str() + "\n";
}
}  // namespace

// Inputs found by the fuzz_model harness (tests/fuzz), reduced: each must be a ferx::error
// naming the file, never another exception or an allocation the file cannot back.
BOOST_AUTO_TEST_CASE(fuzz_findings) {
    ferx_test::temp_dir dir("ferx_learn_fuzz");
    const std::string f = dir.file("fuzz.ferx");
    using rbf_model = ferx::svc_model<ferx::rbf_kernel, float>;
    // An rbf gamma of 0: the kernel's own check raised a ferx::error without the file.
    write_text(f, with_checksum("ferx-model 1\nsection svc\nkernel rbf 0.\nvalue_type float32\ndim 2\n"));
    expect_error_naming<rbf_model>(f, "kernel gamma must be positive and finite");
    // Counts the rest of the file cannot hold: refused before allocating (32 GiB for the first).
    write_text(f, with_checksum("ferx-model 1\nsection standard_scaler\nmean 4294967296 1 2\n"));
    expect_error_naming<ferx::standard_scaler>(f, "'mean' declares 4294967296 values");
    write_text(f, with_checksum("ferx-model 1\nsection svc\nkernel rbf 0.5\nvalue_type float32\ndim 4000000000\n"
                                "n_classes 2\nstrategy ovo\ntasks 1 0 1\nrho 1 0\nprobability 0\n"
                                "support_vectors 1000000\nsv 0 1 2\n"));
    expect_error_naming<rbf_model>(f, "'support_vectors' declares 1000000 x 4000000003 values");
    write_text(f, with_checksum("ferx-model 1\nsection linear_svm\ndim 4294967295\nn_classes 2\nstrategy ovr\n"
                                "bias 1\ntasks 1 1 0\nweights 1 4294967296\n 1 0\n"));
    expect_error_naming<ferx::linear_svm_model>(f, "'weights' declares 1 x 4294967296 values");
    write_text(f, with_checksum("ferx-model 1\nsection dense_head\ndim 16777216\nn_classes 2\nlayers 1\n"
                                "layer 16777216 16777216\nw 1 0\n"));
    expect_error_naming<ferx::dense_head_model>(f, "layer 0 declares 16777216 x 16777217 values");
}

BOOST_AUTO_TEST_SUITE_END()
