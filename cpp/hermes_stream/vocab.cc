#include "hermes_stream/vocab.h"

#include <stdexcept>

#include "hermes_stream/error.h"

namespace hermes_stream {

Vocab::Vocab(const std::vector<std::string>& pieces, const std::vector<bool>& present,
             const std::vector<std::int64_t>& eot_ids) {
  HERMES_CHECK_ARG(pieces.size() == present.size(), "pieces and present differ in length");
  std::size_t total = 0;
  for (const std::string& p : pieces) total += p.size();
  HERMES_CHECK_ARG(total < 0xFFFFFFFFu, "vocabulary bytes exceed 4 GiB");
  bytes_.reserve(total);
  offsets_.reserve(pieces.size() + 1);
  flags_.assign(pieces.size(), 0);
  offsets_.push_back(0);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    bytes_.append(pieces[i]);
    offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
    if (present[i]) flags_[i] = kPresent;
  }
  for (std::int64_t id : eot_ids) {
    HERMES_CHECK_ARG(Known(id), "end-of-turn id is not in the vocabulary");
    flags_[static_cast<std::size_t>(id)] |= kEot;
  }
}

void Vocab::RequireKnown(const std::int64_t* ids, std::size_t n) const {
  for (std::size_t i = 0; i < n; ++i) {
    if (!Known(ids[i])) {
      throw std::invalid_argument("unknown token id " + std::to_string(ids[i]) +
                                  " (vocabulary has " + std::to_string(size()) + " ids)");
    }
  }
}

}  // namespace hermes_stream
