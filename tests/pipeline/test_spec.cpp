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

BOOST_AUTO_TEST_CASE(clip_descriptors_and_clip_stage) {
    const auto s = ferx::parse_spec(
        "lbp_top(map=riu2,r=2,rt=1,points=16,pyt=8,grid=3x4x2,overlap=0.25)+lpq_top(window=7,wxt=3,rho=0.8,grid=2)+"
        "vlpq(ws=5,wt=3,rho_s=0.7,rho_t=0.5,L=8,grid=2x2)+hog(cell=6)+lbp_u2:"
        "clip(frames=uniform,n=6,ref=middle,detect=each,box=union):pre(source=largest):std:linear(C=0.01)");
    BOOST_REQUIRE_EQUAL(s.descriptors.size(), 5u);
    const auto& t = std::get<ferx::lbp_top_params<ferx::lbp_riu2>>(s.descriptors[0]);
    BOOST_TEST(t.rx == 2.0);
    BOOST_TEST(t.ry == 2.0);
    BOOST_TEST(t.rt == 1.0);
    BOOST_TEST(t.p_xy == 16);
    BOOST_TEST(t.p_xt == 16);
    BOOST_TEST(t.p_yt == 8);
    BOOST_TEST(t.grid.cells.rows == 3);
    BOOST_TEST(t.grid.cells.cols == 4);
    BOOST_TEST(t.grid.slices == 2);
    BOOST_TEST(t.grid.overlap == 0.25);
    const auto& q = std::get<ferx::lpq_top_params>(s.descriptors[1]);
    BOOST_TEST(q.window_xy == 7);
    BOOST_TEST(q.window_xt == 3);
    BOOST_TEST(q.window_yt == 7);
    BOOST_TEST(q.rho == 0.8);
    BOOST_TEST(q.grid.cells.rows == 2);
    BOOST_TEST(q.grid.slices == 1);
    const auto& v = std::get<ferx::vlpq_params>(s.descriptors[2]);
    BOOST_TEST(v.window == 5);
    BOOST_TEST(v.window_t == 3);
    BOOST_TEST(v.rho_s == 0.7);
    BOOST_TEST(v.rho_t == 0.5);
    BOOST_TEST(v.components == 8);
    BOOST_TEST(v.grid.cells.cols == 2);
    BOOST_TEST(ferx::is_clip(s.descriptors[2]));
    BOOST_TEST(!ferx::is_clip(s.descriptors[3]));
    BOOST_REQUIRE(s.clip.has_value());
    BOOST_TEST((s.clip->frames == ferx::frame_selection::kind::uniform));
    BOOST_TEST(s.clip->count == 6);
    BOOST_TEST((s.clip->reference == ferx::clip_reference::middle));
    BOOST_TEST((s.clip->detect == ferx::clip_detect::each));
    BOOST_TEST((s.clip->box == ferx::clip_box::union_));
    // a clip descriptor implies the clip stage with its defaults; a frame-only spec has none
    const auto d = ferx::parse_spec("lbp_top:linear");
    BOOST_REQUIRE(d.clip.has_value());
    BOOST_TEST((d.clip->frames == ferx::frame_selection::kind::all));
    BOOST_TEST((d.clip->reference == ferx::clip_reference::last));
    BOOST_TEST(!ferx::parse_spec("hog:linear").clip.has_value());
    BOOST_TEST(ferx::parse_spec("hog:clip:linear").clip.has_value());  // frame descriptors of the reference frame
    BOOST_TEST(ferx::format_spec(d) ==
               "lbp_top(map=u2,rx=1,ry=1,rt=1,pxy=8,pxt=8,pyt=8,grid=4x4x1,overlap=0):clip(frames=all,n=8,ref=last,"
               "detect=ref,box=median):pre(size=48,eq=global,clip=2,tiles=6,norm=none,pad=0,align=0,source=crop,scale=1.1,"
               "neighbors=3,min=30):std:linear(C=1,strategy=ovr)");
    for (const char* text : {"lbp_top(grid=2)+hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)",
                             "lbp_top(map=none,rx=1.5,ry=1,rt=2,pxy=4,pxt=6,pyt=8,grid=2x3x3):linear",
                             "lpq_top(wxy=9,wxt=5,wyt=3,decorrelate=0,grid=1x2x1,overlap=0.5):none:rbf(C=10)",
                             "vlpq:clip(frames=tsn,n=4,ref=first):pca(k=5):linear", "hog+vlpq(L=12):clip(frames=half):linear"}) {
        const std::string once = ferx::format_spec(ferx::parse_spec(text));
        BOOST_TEST(ferx::format_spec(ferx::parse_spec(once)) == once, text);
    }
}

BOOST_AUTO_TEST_CASE(clip_errors_name_the_spec_and_the_token) {
    const struct {
        const char* spec;
        const char* token;
    } cases[] = {{"lbp_top(map=u3):linear", "map"},         {"lbp_top(rx=0):linear", "radii"},
                 {"lbp_top(pxy=40):linear", "pxy"},          {"lbp_top(map=none,points=20):linear", "16"},
                 {"lbp_top(grid=2x2x0):linear", "grid"},     {"lbp_top(grid=2xx):linear", "grid"},
                 {"lbp_top(radius=1):linear", "radius"},     {"lpq_top(window=4):linear", "odd"},
                 {"lpq_top(wxt=x):linear", "wxt"},           {"vlpq(L=20):linear", "L"},
                 {"vlpq(rho_s=1):linear", "rho_s"},          {"vlpq(wt=2):linear", "wt"},
                 {"lbp_top:clip(frames=some):linear", "frames"}, {"lbp_top:clip(n=0):linear", "n"},
                 {"lbp_top:clip(ref=peak):linear", "ref"},   {"lbp_top:clip(box=mean):linear", "box"},
                 {"lbp_top:clip:clip:linear", "second clip"}, {"lbp_top:clip(size=3):linear", "size"},
                 {"lbp_top:pre(source=all):linear", "source=all"}};
    for (const auto& c : cases) {
        try {
            ferx::parse_spec(c.spec);
            BOOST_ERROR("no error for " << c.spec);
        } catch (const ferx::error& e) {
            const std::string what = e.what();
            BOOST_TEST(what.find(c.spec) != std::string::npos, c.spec << ": " << what);
            BOOST_TEST(what.find(c.token) != std::string::npos, c.spec << ": " << what);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
