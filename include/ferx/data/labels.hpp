/// \file ferx/data/labels.hpp
/// Emotion class names and label maps: the 7 CK+ classes, the 7 FER2013 classes in their
/// canonical order, the 6 basic emotions (no contempt, no neutral) and the 3-class
/// negative / neutral / positive binning. A map turns one dataset's labels into another class
/// set, dropping the classes it leaves out.
#pragma once

#include <ferx/core/error.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The CK+ classes (CK+ emotion codes 1..7, i.e. alphabetical): anger, contempt, disgust, fear,
/// happy, sadness, surprise. CK+48's folders carry these names.
inline std::vector<std::string> ckplus_classes() {
    return {"anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"};
}

/// The FER2013 classes in the canonical order of its `emotion` column: 0 angry, 1 disgust,
/// 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
inline std::vector<std::string> fer2013_classes() {
    return {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
}

/// The canonical spelling of an emotion name: lower case, with the synonyms the datasets use
/// folded together (angry -> anger, happiness -> happy, sad -> sadness, surprised -> surprise,
/// disgusted -> disgust, fearful/afraid -> fear, contemptuous -> contempt). Other names are
/// returned lower-cased.
inline std::string canonical_emotion(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::map<std::string, std::string> synonyms = {
        {"angry", "anger"},       {"happiness", "happy"}, {"sad", "sadness"},  {"surprised", "surprise"},
        {"disgusted", "disgust"}, {"fearful", "fear"},    {"afraid", "fear"},  {"contemptuous", "contempt"}};
    const auto it = synonyms.find(name);
    return it == synonyms.end() ? name : it->second;
}

/// A label map: the target classes, and for each source emotion (canonical name) its target
/// class index, or -1 to drop samples of that emotion. A source name the map does not list is an
/// error when the map is applied.
struct label_map {
    std::vector<std::string> classes;  ///< target class names, index = label
    std::map<std::string, int> target;  ///< canonical source emotion -> target label or -1

    /// The target label of a source class name (-1: dropped); ferx::error if the map lacks it.
    int operator()(const std::string& source) const {
        const auto it = target.find(canonical_emotion(source));
        if (it == target.end())
            throw error("ferx::label_map", "the label '" + source + "' is not in the map (its classes: " +
                                               describe() + ")");
        return it->second;
    }

    /// "name, name, ..." of the target classes.
    std::string describe() const {
        std::string s;
        for (const auto& c : classes) s += (s.empty() ? "" : ", ") + c;
        return s;
    }
};

namespace detail {
/// A map whose classes are `classes`, each taking the emotions listed for it; `dropped` are
/// mapped to -1.
inline label_map make_label_map(std::vector<std::pair<std::string, std::vector<std::string>>> bins,
                                const std::vector<std::string>& dropped) {
    label_map m;
    for (std::size_t i = 0; i < bins.size(); ++i) {
        m.classes.push_back(bins[i].first);
        for (const auto& e : bins[i].second) m.target[canonical_emotion(e)] = static_cast<int>(i);
    }
    for (const auto& e : dropped) m.target[canonical_emotion(e)] = -1;
    return m;
}
}  // namespace detail

/// The 7 CK+ classes (ckplus_classes() order); neutral is dropped.
inline label_map ckplus7_map() {
    std::vector<std::pair<std::string, std::vector<std::string>>> bins;
    for (const auto& c : ckplus_classes()) bins.push_back({c, {c}});
    return detail::make_label_map(std::move(bins), {"neutral"});
}

/// The 7 FER2013 classes (fer2013_classes() order: 0 angry .. 6 neutral); contempt is dropped.
inline label_map fer2013_map() {
    std::vector<std::pair<std::string, std::vector<std::string>>> bins;
    for (const auto& c : fer2013_classes()) bins.push_back({c, {c}});
    return detail::make_label_map(std::move(bins), {"contempt"});
}

/// The 6 basic emotions: 0 anger, 1 disgust, 2 fear, 3 happy, 4 sadness, 5 surprise; contempt and
/// neutral are dropped.
inline label_map basic6_map() {
    return detail::make_label_map({{"anger", {"anger"}},
                                   {"disgust", {"disgust"}},
                                   {"fear", {"fear"}},
                                   {"happy", {"happy"}},
                                   {"sadness", {"sadness"}},
                                   {"surprise", {"surprise"}}},
                                  {"contempt", "neutral"});
}

/// The 3-class valence binning: 0 negative = anger, contempt, disgust, fear, sadness;
/// 1 neutral = neutral; 2 positive = happy, surprise. (Surprise is placed with happy, as most
/// FER2013 3-class studies do; nothing is dropped.)
inline label_map valence3_map() {
    return detail::make_label_map({{"negative", {"anger", "contempt", "disgust", "fear", "sadness"}},
                                   {"neutral", {"neutral"}},
                                   {"positive", {"happy", "surprise"}}},
                                  {});
}

FERX_NAMESPACE_END
