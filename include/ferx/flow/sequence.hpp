/// \file ferx/flow/sequence.hpp
/// Video use of a two-frame flow method: `flow_sequence<Derived>` keeps the previous frame's
/// per-frame work (TV-L1's pyramid, Farneback's polynomial expansions) so that each new frame is
/// prepared once, and returns the flow from the previous frame to it. tvl1_sequence and
/// farneback_sequence are built on it; `detail::clip_flows` gives the flows of a clip's
/// consecutive frames through one. A method provides, for the base to call:
///
///     template <class Policy, class T> void push_frame(const Policy&, const image_view<const T>&);
///     template <class Policy> void solve_last_pair(const Policy&, const flow_view<>& flow);  // from zero
///     static constexpr const char* sequence_name = "ferx::<method>_sequence";
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/flow/field.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

template <class Derived>
class flow_sequence {
public:
    /// Adds a frame; returns the flow from the previous frame to it, from zero (use_initial_flow
    /// does not apply), or an empty 0 x 0 field for the first frame. A frame of another size than
    /// the previous one restarts the sequence.
    template <class Policy, class T>
    flow_field next(const Policy& policy, const image_view<const T>& frame) {
        static_assert(is_host_policy_v<Policy>, "ferx flow sequences: use exec::seq or exec::par");
        detail::check_frame_pair(frame, frame, (std::string(Derived::sequence_name) + "::next").c_str());
        const bool first = count_ == 0 || frame.rows() != rows_ || frame.cols() != cols_;
        rows_ = frame.rows();
        cols_ = frame.cols();
        self().push_frame(policy, frame);
        if (first) {
            count_ = 1;
            return make_flow_field(0, 0);
        }
        ++count_;
        flow_field f = make_flow_field(rows_, cols_);
        self().solve_last_pair(policy, view(f));
        return f;
    }
    /// The same for mutable views (what ferx::view gives for a non-const image).
    template <class Policy, class T, class = std::enable_if_t<!std::is_const<T>::value>>
    flow_field next(const Policy& policy, const image_view<T>& frame) {
        return next(policy, image_view<const T>(frame));
    }
    /// Forgets the previous frame.
    void reset() { count_ = 0; }
    /// Frames added since the sequence (re)started.
    index_t frames() const { return count_; }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    index_t count_ = 0, rows_ = 0, cols_ = 0;
};

namespace detail {
/// The flows of a clip's frames - 1 consecutive pairs (frames x rows x cols) through `s`.
template <class Sequence, class Policy, class T>
std::vector<flow_field> clip_flows(Sequence& s, const Policy& policy, const volume_view<const T>& clip, const char* where) {
    if (clip.empty() || clip.shape(0) < 2)
        throw error(where, "a clip needs at least 2 frames, got " + std::to_string(clip.empty() ? 0 : clip.shape(0)));
    std::vector<flow_field> out;
    out.reserve(static_cast<std::size_t>(clip.shape(0) - 1));
    for (index_t t = 0; t < clip.shape(0); ++t) {
        flow_field f = s.next(policy, clip[t]);
        if (t > 0) out.push_back(std::move(f));
    }
    return out;
}
}  // namespace detail

FERX_NAMESPACE_END
