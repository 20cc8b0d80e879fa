/// \file ferx/data/ckplus.hpp
/// The CK+48 layout: root/<class>/<image>.png with root/index.csv listing
/// `path,label,subject,sequence,frame` (path relative to root; label one of the 7 CK+ classes).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/samples.hpp>
#include <ferx/data/detail/csv.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/data/labels.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The CK+48 images listed in root/index.csv, in the index's order, with
/// - labels in ckplus_classes() order (0 anger, 1 contempt, 2 disgust, 3 fear, 4 happy,
///   5 sadness, 6 surprise; index labels are matched through canonical_emotion),
/// - groups: one id per subject (0, 1, ... in order of first appearance; names in group_names),
///   for ferx::group_kfold / leave_one_group_out (subject-independent evaluation),
/// - sequences: one id per sequence, likewise (sequence_names),
/// - frames: each image's frame number in its sequence (the index's `frame` column).
/// Throws ferx::error naming the file (and line) for a missing folder or index.csv, a wrong
/// header, a row with other than 5 fields, an unknown label, an empty subject or sequence, a
/// frame that is not a number, or a listed image file that does not exist.
inline image_list ckplus48(const std::filesystem::path& root) {
    constexpr const char* where = "ferx::ckplus48";
    detail::require_folder(root, where, "the CK+48 folder");
    const auto index = root / "index.csv";
    const auto classes = ckplus_classes();
    image_list out;
    out.classes = classes;
    std::vector<std::string> subjects, sequences;
    detail::read_csv(index, {"path", "label", "subject", "sequence", "frame"}, true, where,
                     [&](const std::vector<std::string>& f, std::size_t line) {
                         const std::string at = "line " + std::to_string(line) + ": ";
                         const auto k = std::find(classes.begin(), classes.end(), canonical_emotion(f[1]));
                         if (k == classes.end())
                             throw error(where, at + "unknown label '" + f[1] + "' (CK+ classes: anger, contempt, "
                                                     "disgust, fear, happy, sadness, surprise)", index.string());
                         int frame = 0;
                         if (f[2].empty() || f[3].empty() || !detail::parse_int(f[4], frame))
                             throw error(where, at + "empty subject or sequence, or a frame that is not a number",
                                         index.string());
                         out.paths.push_back(detail::listed_file(root, f[0], at, index, where));
                         out.labels.push_back(static_cast<int>(k - classes.begin()));
                         subjects.push_back(f[2]);
                         sequences.push_back(f[3]);
                         out.frames.push_back(frame);
                     });
    if (out.empty()) throw error(where, "the index lists no images", index.string());
    out.groups = group_ids(subjects);
    out.sequences = group_ids(sequences);
    out.group_names.resize(subjects.size());
    out.sequence_names.resize(sequences.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        out.group_names[static_cast<std::size_t>(out.groups[i])] = subjects[i];
        out.sequence_names[static_cast<std::size_t>(out.sequences[i])] = sequences[i];
    }
    out.group_names.resize(static_cast<std::size_t>(*std::max_element(out.groups.begin(), out.groups.end()) + 1));
    out.sequence_names.resize(
        static_cast<std::size_t>(*std::max_element(out.sequences.begin(), out.sequences.end()) + 1));
    return out;
}

FERX_NAMESPACE_END
