// Errors for API misuse. Model output never throws: it only ever becomes segments.
#ifndef HERMES_STREAM_ERROR_H_
#define HERMES_STREAM_ERROR_H_

#include <stdexcept>

namespace hermes_stream {

/// Calling the API out of order (e.g. Feed after Finish). Maps to Python RuntimeError.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace hermes_stream

#define HERMES_CHECK_ARG(cond, msg)                \
  do {                                             \
    if (!(cond)) throw std::invalid_argument(msg); \
  } while (0)

#endif  // HERMES_STREAM_ERROR_H_
