// Pipeline strings: parse, canonical format, round trip, and every kind of malformed string.
#include "ferx_test.hpp"

#include <ferx/pipeline/spec.hpp>

BOOST_AUTO_TEST_SUITE(spec)

BOOST_AUTO_TEST_CASE(parse_reads_every_part) {
    const auto s = ferx::parse_spec(
        "hog(cell=6,block=12,stride=6,bins=12,signed=1)+lbp_riu2(points=16,radius=2,grid=7x5)+lpq(window=5,decorrelate=0):"
        "pre(size=64x56,eq=clahe,clip=3,tiles=4,norm=unit,pad=0.1,align=1,source=largest,scale=1.2,neighbors=4,min=40):"
        "minmax:pca(k=50,whiten=1):poly(C=2.5,gamma=0.01,coef0=1,degree=2,prob=1,strategy=ovr)");
    BOOST_REQUIRE_EQUAL(s.descriptors.size(), 3u);
    const auto& hog = std::get<ferx::hog_params<>>(s.descriptors[0]);
    BOOST_TEST(hog.cell.rows == 6);
    BOOST_TEST(hog.block.cols == 12);
    BOOST_TEST(hog.bins == 12);
    BOOST_TEST(hog.signed_gradient);
    const auto& lbp = std::get<ferx::lbp_params<ferx::lbp_riu2>>(s.descriptors[1]);
    BOOST_TEST(lbp.points == 16);
    BOOST_TEST(lbp.radius == 2.0);
    BOOST_TEST(lbp.grid.cells.rows == 7);
    BOOST_TEST(lbp.grid.cells.cols == 5);
    const auto& lpq = std::get<ferx::lpq_params>(s.descriptors[2]);
    BOOST_TEST(lpq.window == 5);
    BOOST_TEST(!lpq.decorrelate);
    BOOST_TEST(s.preprocess.height == 64);
    BOOST_TEST(s.preprocess.width == 56);
    BOOST_TEST((s.preprocess.equalize == ferx::equalization::clahe));
    BOOST_TEST(s.preprocess.clahe.clip_limit == 3.0);
    BOOST_TEST(s.preprocess.clahe.tiles_x == 4);
    BOOST_TEST((s.preprocess.normalize == ferx::intensity_norm::unit_range));
    BOOST_TEST(s.preprocess.pad == 0.1);
    BOOST_TEST(s.preprocess.align_eyes);
    BOOST_TEST((s.preprocess.source == ferx::face_source::largest));
    BOOST_TEST(s.preprocess.detect.scale_factor == 1.2);
    BOOST_TEST(s.preprocess.detect.min_neighbors == 4);
    BOOST_TEST(s.preprocess.detect.min_width == 40);
    BOOST_TEST((s.scaler == ferx::scaler_kind::minmax));
    BOOST_TEST(s.pca.components == 50u);
    BOOST_TEST(s.pca.whiten);
    BOOST_TEST((s.classifier.kind == ferx::classifier_kind::poly));
    BOOST_TEST(s.classifier.C == 2.5);
    BOOST_TEST(s.classifier.gamma == 0.01);
    BOOST_TEST(s.classifier.coef0 == 1.0);
    BOOST_TEST(s.classifier.degree == 2);
    BOOST_TEST(s.classifier.probability);
    BOOST_TEST((s.classifier.strategy == ferx::multiclass::one_vs_rest));
}

BOOST_AUTO_TEST_CASE(defaults_and_round_trip) {
    const auto s = ferx::parse_spec("hog:rbf");
    BOOST_TEST((s.scaler == ferx::scaler_kind::standard));  // the default scaler
    BOOST_TEST(s.pca.components == 0u);
    BOOST_TEST(s.classifier.gamma == 0.0);                   // gamma=scale
    BOOST_TEST((s.classifier.strategy == ferx::multiclass::one_vs_one));
    BOOST_TEST((ferx::parse_spec("lbp:linear").classifier.strategy == ferx::multiclass::one_vs_rest));
    BOOST_TEST(ferx::format_spec(s) ==
               "hog(cell=8,block=16,stride=8,bins=9,signed=0,gamma=1):pre(size=48,eq=global,clip=2,tiles=6,norm=none,"
               "pad=0,align=0,source=crop,scale=1.1,neighbors=3,min=30):std:rbf(C=1,gamma=scale,prob=0,strategy=ovo)");
    for (const char* text : {"hog:rbf", "lbp_u2+lpq:none:linear(C=0.5)", "lbp_none(grid=4,overlap=0.5):chi2(C=3,gamma=0.1)",
                             "hog(cell=6x8,block=12x16,stride=6x8):std:pca(k=10):sigmoid(coef0=-1)",
                             "lpq(rho=0.7):pre(eq=none,norm=std):intersection(C=100,prob=1)"}) {
        const std::string once = ferx::format_spec(ferx::parse_spec(text));
        BOOST_TEST(ferx::format_spec(ferx::parse_spec(once)) == once, text);
    }
    // A spec built in code formats and parses back to the same parameters.
    ferx::pipeline_spec built;
    built.classifier.C = 0.1 + 0.2;  // not a short decimal
    built.preprocess.pad = 1.0 / 3.0;
    const auto back = ferx::parse_spec(ferx::format_spec(built));
    BOOST_TEST(back.classifier.C == built.classifier.C);
    BOOST_TEST(back.preprocess.pad == built.preprocess.pad);
}

BOOST_AUTO_TEST_CASE(malformed_strings_are_refused) {
    for (const char* bad : {"", "hog", "hog:", ":rbf", "hog::rbf", "hog+:rbf", "sift:rbf", "hog:svm", "hog:std:std:rbf",
                            "hog:pca:rbf", "hog:pca(k=0):rbf", "hog(cell=0):rbf", "hog(cell=a):rbf", "hog(cells=8):rbf",
                            "hog(cell=8:rbf", "hog(cell=8)):rbf", "hog(cell):rbf", "hog:rbf(C=-1)", "hog:rbf(C=nan)",
                            "hog:rbf(gamma=-2)", "hog:rbf(degree=2)", "hog:linear(prob=1)", "hog:rbf(strategy=all)",
                            "hog:pre(eq=magic):rbf", "hog:pre(size=4):rbf", "hog:pre(source=file):rbf", "hog :rbf",
                            "hog:rbf:std", "lbp(points=64):rbf", "hog(signed=2):rbf", "hog:intersection(gamma=1)",
                            "hog:rbf(C=1,)", "hog:pre(pad=100):rbf"}) {
        BOOST_CHECK_THROW(ferx::parse_spec(bad), ferx::error);
    }
    try {
        ferx::parse_spec("hog(cell=8,bins=x):rbf");
        BOOST_FAIL("no error");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("bins") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
