// Token id -> exact bytes, for feeding token ids (SPEC rule 14). Immutable after construction,
// so one Vocab is shared by any number of parsers and threads (held by shared_ptr<const Vocab>).
#ifndef HERMES_STREAM_VOCAB_H_
#define HERMES_STREAM_VOCAB_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hermes_stream {

class Vocab {
 public:
  /// `pieces[id]` are the bytes of token `id`; ids with `present[id] == false` are holes.
  Vocab(const std::vector<std::string>& pieces, const std::vector<bool>& present,
        const std::vector<std::int64_t>& eot_ids);

  std::size_t size() const { return offsets_.size() - 1; }
  bool Known(std::int64_t id) const {
    return id >= 0 && static_cast<std::size_t>(id) < size() && (flags_[id] & kPresent);
  }
  /// Throws std::invalid_argument naming the first of `ids` that is not Known().
  void RequireKnown(const std::int64_t* ids, std::size_t n) const;
  bool IsEot(std::int64_t id) const { return (flags_[id] & kEot) != 0; }
  /// Bytes of a known id.
  std::string_view Bytes(std::int64_t id) const {
    return std::string_view(bytes_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }

 private:
  static constexpr std::uint8_t kPresent = 1;
  static constexpr std::uint8_t kEot = 2;
  std::string bytes_;                   // all pieces back to back
  std::vector<std::uint32_t> offsets_;  // size() + 1 entries
  std::vector<std::uint8_t> flags_;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_VOCAB_H_
